"""Writes python_random.json: what CPython's `random` gives for the seeds' split, so that the C# PythonRandom
can be checked in CI, where there is no Python.
Run from the repository root:  /usr/bin/python3 tests/Microsoft.ML.BatchNormMlp.Tests/Featurization/Fixtures/make_python_random.py [NAMES_TXT]
"""
import hashlib, json, os, random, sys

here = os.path.dirname(os.path.abspath(__file__))
names_path = sys.argv[1] if len(sys.argv) > 1 else '../shared/data/names.txt'

out = {'python': sys.version.split()[0], 'seeds': []}
for seed in [0, 1, 42, -7, 2**32 + 5, 123456789012]:
    r = random.Random(seed)
    bits32 = [r.getrandbits(32) for _ in range(8)]
    r = random.Random(seed)
    below = [r._randbelow(n) for n in [1, 2, 3, 5, 7, 100, 1000, 32033, 2**31 - 1]]
    random.seed(seed)
    small = list(range(50)); random.shuffle(small)
    random.seed(seed)
    big = list(range(1000)); random.shuffle(big)
    out['seeds'].append({'seed': seed, 'getrandbits32': bits32, 'randbelow': below,
                         'shuffle50': small, 'shuffle1000_first': big[:10], 'shuffle1000_last': big[-10:]})

# Exactly the seeds' code.
words = open(names_path, 'r', encoding='utf-8').read().splitlines()
random.seed(42)
random.shuffle(words)
n1, n2 = int(0.8 * len(words)), int(0.9 * len(words))
rows = lambda ws: sum(len(w) + 1 for w in ws)
out['names'] = {
    'count': len(words), 'n1': n1, 'n2': n2,
    'rows': [rows(words[:n1]), rows(words[n1:n2]), rows(words[n2:])],
    'first': words[:10], 'last': words[-10:],
    'sha256': hashlib.sha256('\n'.join(words).encode('utf-8')).hexdigest(),
}
with open(os.path.join(here, 'python_random.json'), 'w') as f:
    json.dump(out, f, indent=1)
    f.write('\n')
print('wrote', os.path.join(here, 'python_random.json'), out['names']['rows'])
