#!/usr/bin/env bash
# Puts the data files where bnmlp looks for them (data/ in the repository), without ever committing them:
#   names.txt                   makemore's 32033 names
#   mnist1d/mnist1d_train.csv   MNIST-1D, header label,x0..x39, 4000 rows
#   mnist1d/mnist1d_test.csv    MNIST-1D, 1000 rows
#
# Usage: data/fetch-data.sh [DEST_DIR]        (DEST_DIR defaults to this script's directory, data/)
#
# Each file is copied from ../shared/data beside the repository when it is there (override the place with
# BNMLP_SHARED_DATA=DIR); otherwise it is downloaded from its public origin:
#   names.txt  https://raw.githubusercontent.com/karpathy/makemore/master/names.txt
#   MNIST-1D   https://github.com/greydanus/mnist1d/raw/master/mnist1d_data.pkl, converted to the two CSVs.
# Downloading needs network access and curl or wget; the conversion needs python3 with numpy (the pickle holds
# numpy arrays). Files already present are left alone. Every file is written to a temporary name, then renamed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="${1:-$here}"
shared="${BNMLP_SHARED_DATA:-$here/../../shared/data}"
[[ -d "$shared" ]] && shared="$(cd "$shared" && pwd)"
names_url="https://raw.githubusercontent.com/karpathy/makemore/master/names.txt"
mnist_url="https://github.com/greydanus/mnist1d/raw/master/mnist1d_data.pkl"

mkdir -p "$dest/mnist1d"

download() { # url target
  if command -v curl >/dev/null; then curl -fsSL --retry 3 -o "$2" "$1"
  elif command -v wget >/dev/null; then wget -q -O "$2" "$1"
  else echo "fetch-data: need curl or wget to download $1" >&2; return 1
  fi
}

# copy_shared RELATIVE: keeps a file already present, else copies it from the shared directory; 1 when that has none.
copy_shared() {
  local relative="$1"
  if [[ -f "$dest/$relative" ]]; then echo "present:    $dest/$relative"; return 0; fi
  if [[ -f "$shared/$relative" ]]; then
    cp "$shared/$relative" "$dest/$relative.tmp.$$"
    chmod 644 "$dest/$relative.tmp.$$" # the shared copies are read-only
    mv "$dest/$relative.tmp.$$" "$dest/$relative"
    echo "copied:     $shared/$relative -> $dest/$relative"
    return 0
  fi
  return 1
}

if ! copy_shared names.txt; then
  download "$names_url" "$dest/names.txt.tmp.$$"
  mv "$dest/names.txt.tmp.$$" "$dest/names.txt"
  echo "downloaded: $names_url -> $dest/names.txt"
fi

have_train=0; have_test=0
copy_shared mnist1d/mnist1d_train.csv && have_train=1
copy_shared mnist1d/mnist1d_test.csv && have_test=1
if [[ $have_train == 0 || $have_test == 0 ]]; then
  command -v python3 >/dev/null || { echo "fetch-data: need python3 (with numpy) to convert MNIST-1D's pickle to CSV" >&2; exit 1; }
  pkl="$(mktemp)"; trap 'rm -f "$pkl"' EXIT
  download "$mnist_url" "$pkl"
  echo "downloaded: $mnist_url"
  python3 - "$pkl" "$dest/mnist1d" <<'PY'
import os, pickle, sys
pkl, out = sys.argv[1], sys.argv[2]
with open(pkl, 'rb') as f:
    data = pickle.load(f)  # needs numpy: the values are numpy arrays
for name, xs, ys in [('train', data['x'], data['y']), ('test', data['x_test'], data['y_test'])]:
    path = os.path.join(out, f'mnist1d_{name}.csv')
    if os.path.exists(path):
        continue
    assert xs.shape[1] == 40 and len(xs) == len(ys), (xs.shape, len(ys))
    with open(path + '.tmp', 'w', encoding='utf-8', newline='\n') as f:
        f.write('label,' + ','.join(f'x{i}' for i in range(40)) + '\n')
        for x, y in zip(xs, ys):
            f.write(str(int(y)) + ',' + ','.join(repr(float(v)) for v in x) + '\n')
    os.replace(path + '.tmp', path)
    print(f'converted:  {path} ({len(ys)} rows)')
PY
fi
