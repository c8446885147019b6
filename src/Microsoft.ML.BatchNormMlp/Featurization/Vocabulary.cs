using System.Text;
using Microsoft.ML.BatchNormMlp.Featurization;

namespace Microsoft.ML.BatchNormMlp;

/// <summary>
/// The symbols a character model reads and writes, each with an integer id: the rows of the embedding table and
/// the columns of the logits.
/// </summary>
/// <remarks>
/// <para>
/// A symbol is one Unicode scalar value (a <see cref="Rune"/>), so an emoji or any other character outside the
/// Basic Multilingual Plane is one symbol, never two UTF-16 halves. Text is taken as it is: no case folding and
/// no Unicode normalization (a precomposed "é" and "e" followed by a combining accent are different symbols).
/// </para>
/// <para>
/// Ids: id 0 is the boundary symbol that marks both the start and the end of a name (printed as <c>.</c> by
/// default); then every symbol of the corpus in code-point order. On makemore's names.txt this gives 27 symbols,
/// exactly the seeds' <c>stoi</c> (<c>'.'</c> = 0, <c>'a'</c> = 1, ..., <c>'z'</c> = 26).
/// </para>
/// <para>
/// Unknown symbols: a vocabulary built with an unknown symbol reserves the <em>last</em> id for it, after the
/// corpus' symbols, so the corpus' ids stay the same with or without it. The model gets an embedding row for
/// that id; training never sees it. <see cref="Encode"/> maps a symbol outside the vocabulary to that id only
/// when asked to with <see cref="UnknownSymbolHandling.MapToUnknown"/>; otherwise it is an error.
/// </para>
/// </remarks>
public sealed class Vocabulary
{
    /// <summary>The id of the boundary symbol: the start padding of every context and the target after a name's last symbol.</summary>
    public const int BoundaryId = 0;

    /// <summary>The boundary symbol unless another is chosen: <c>.</c>, as in the seeds.</summary>
    public const string DefaultBoundarySymbol = ".";

    private readonly Rune[] _symbols;
    private readonly string[] _symbolStrings;
    private readonly Dictionary<Rune, int> _ids;

    private Vocabulary(Rune[] symbols, bool hasUnknown)
    {
        _symbols = symbols;
        _symbolStrings = [.. symbols.Select(s => s.ToString())];
        _ids = new Dictionary<Rune, int>(symbols.Length);
        for (int i = 0; i < symbols.Length; i++)
            if (!_ids.TryAdd(symbols[i], i))
                throw new ArgumentException($"Symbol '{symbols[i]}' appears twice in the vocabulary (ids {_ids[symbols[i]]} and {i}).", nameof(symbols));
        UnknownId = hasUnknown ? symbols.Length - 1 : null;
    }

    /// <summary>Number of symbols, including the boundary symbol and the unknown symbol if reserved.</summary>
    public int Count => _symbols.Length;

    /// <summary>The symbols in id order: <c>Symbols[id]</c> is the symbol with that id.</summary>
    public IReadOnlyList<string> Symbols => _symbolStrings;

    /// <summary>The boundary symbol (id <see cref="BoundaryId"/>).</summary>
    public string BoundarySymbol => _symbolStrings[BoundaryId];

    /// <summary>The id reserved for symbols outside the vocabulary (the last id), or <see langword="null"/> when none is reserved.</summary>
    public int? UnknownId { get; }

    /// <summary>The symbol printed for <see cref="UnknownId"/>, or <see langword="null"/> when no id is reserved.</summary>
    public string? UnknownSymbol => UnknownId is int id ? _symbolStrings[id] : null;

    /// <summary>
    /// Builds the vocabulary of a corpus: the boundary symbol, the corpus' symbols in code-point order, then the
    /// unknown symbol when one is given.
    /// </summary>
    /// <param name="names">The training corpus, one name per element.</param>
    /// <param name="boundarySymbol">The boundary symbol: exactly one Unicode scalar value that does not occur in the corpus.</param>
    /// <param name="unknownSymbol">
    /// When not <see langword="null"/>, reserves the last id for symbols outside the corpus and prints it as this
    /// symbol (one Unicode scalar value, not in the corpus, different from the boundary symbol).
    /// </param>
    /// <exception cref="ArgumentException">
    /// A symbol argument is not exactly one non-control Unicode scalar value, or the boundary or unknown symbol
    /// occurs in the corpus (the message names the name and the character position).
    /// </exception>
    public static Vocabulary FromCorpus(IEnumerable<string> names, string boundarySymbol = DefaultBoundarySymbol, string? unknownSymbol = null)
    {
        ArgumentNullException.ThrowIfNull(names);
        IReadOnlyList<string> list = names as IReadOnlyList<string> ?? [.. names];
        return Build(list, boundarySymbol, unknownSymbol, i => $"name {i + 1} (\"{list[i]}\")",
            (message, parameter) => new ArgumentException(message, parameter));
    }

    /// <summary>
    /// Builds the vocabulary of a corpus read from a file. A boundary or unknown symbol inside the corpus is then a
    /// problem of the file: an <see cref="InvalidDataException"/> naming the file and line.
    /// </summary>
    internal static Vocabulary FromCorpus(NameCorpus corpus, string boundarySymbol = DefaultBoundarySymbol, string? unknownSymbol = null) =>
        Build(corpus.Names, boundarySymbol, unknownSymbol, corpus.Describe, (message, _) => new InvalidDataException(message));

    /// <summary>
    /// Rebuilds a vocabulary from its symbols in id order (for instance from a model file): the first is the
    /// boundary symbol and, when <paramref name="lastIsUnknown"/> is set, the last is the unknown symbol.
    /// </summary>
    /// <exception cref="ArgumentException">A symbol is not one Unicode scalar value, appears twice, or there are too few.</exception>
    public static Vocabulary FromSymbols(IEnumerable<string> symbols, bool lastIsUnknown = false)
    {
        ArgumentNullException.ThrowIfNull(symbols);
        Rune[] runes = [.. symbols.Select((s, i) => ParseSymbol(s, $"{nameof(symbols)}[{i}]"))];
        if (runes.Length < (lastIsUnknown ? 2 : 1))
            throw new ArgumentException(
                $"A vocabulary needs the boundary symbol{(lastIsUnknown ? " and the unknown symbol" : "")}; got {runes.Length} symbol(s).", nameof(symbols));
        return new Vocabulary(runes, lastIsUnknown);
    }

    /// <summary>The symbol with id <paramref name="id"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="id"/> is not in [0, <see cref="Count"/>).</exception>
    public string GetSymbol(int id)
    {
        if ((uint)id >= (uint)_symbols.Length)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"Id {id} is not in this vocabulary (ids 0 to {Count - 1}).");
        return _symbolStrings[id];
    }

    /// <summary>The id of <paramref name="symbol"/> (one Unicode scalar value), if it is in the vocabulary.</summary>
    public bool TryGetId(string symbol, out int id)
    {
        id = -1;
        return symbol is not null
            && Rune.DecodeFromUtf16(symbol, out Rune rune, out int consumed) == System.Buffers.OperationStatus.Done
            && consumed == symbol.Length
            && _ids.TryGetValue(rune, out id);
    }

    internal bool TryGetId(Rune symbol, out int id) => _ids.TryGetValue(symbol, out id);

    /// <summary>The ids of the symbols of <paramref name="text"/>, one per Unicode scalar value.</summary>
    /// <param name="text">The text to encode. The boundary symbol, if present, encodes to <see cref="BoundaryId"/>.</param>
    /// <param name="handling">Whether a symbol outside the vocabulary is an error (default) or maps to <see cref="UnknownId"/>.</param>
    /// <exception cref="ArgumentException">
    /// A symbol is not in the vocabulary (the message names it, its code point and its 1-based character position),
    /// the text holds invalid UTF-16, or <paramref name="handling"/> asks for mapping but no unknown id is reserved.
    /// </exception>
    public int[] Encode(string text, UnknownSymbolHandling handling = UnknownSymbolHandling.Error)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (handling == UnknownSymbolHandling.MapToUnknown && UnknownId is null)
            throw new ArgumentException(
                "UnknownSymbolHandling.MapToUnknown needs a vocabulary that reserves an unknown id; build it with an unknown symbol.", nameof(handling));

        var ids = new List<int>(text.Length);
        int position = 0;
        for (int offset = 0; offset < text.Length;)
        {
            position++;
            if (Rune.DecodeFromUtf16(text.AsSpan(offset), out Rune rune, out int consumed) != System.Buffers.OperationStatus.Done)
                throw new ArgumentException($"Character {position} of \"{text}\" is a lone UTF-16 surrogate, not a Unicode symbol.", nameof(text));
            offset += consumed;
            if (_ids.TryGetValue(rune, out int id)) ids.Add(id);
            else if (handling == UnknownSymbolHandling.MapToUnknown) ids.Add(UnknownId!.Value);
            else throw new ArgumentException(
                $"Symbol '{rune}' (U+{rune.Value:X4}) at character {position} of \"{text}\" is not in the vocabulary of {Count} symbols"
                + (UnknownId is null
                    ? "; build the vocabulary with an unknown symbol to map such symbols to a reserved id."
                    : $"; encode with UnknownSymbolHandling.MapToUnknown to map it to the unknown id {UnknownId}."),
                nameof(text));
        }
        return [.. ids];
    }

    /// <summary>The text of <paramref name="ids"/>: each id's symbol, the boundary symbol included.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is not in the vocabulary (the message names its position).</exception>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var builder = new StringBuilder(ids.Length);
        for (int i = 0; i < ids.Length; i++)
        {
            if ((uint)ids[i] >= (uint)_symbols.Length)
                throw new ArgumentOutOfRangeException(nameof(ids), ids[i], $"ids[{i}] = {ids[i]} is not in this vocabulary (ids 0 to {Count - 1}).");
            builder.Append(_symbolStrings[ids[i]]);
        }
        return builder.ToString();
    }

    /// <summary>The symbols in id order, for display.</summary>
    public override string ToString() => $"{Count} symbols: {string.Concat(_symbolStrings)}";

    private static Vocabulary Build(IReadOnlyList<string> names, string boundarySymbol, string? unknownSymbol,
        Func<int, string> describe, Func<string, string, Exception> corpusError)
    {
        Rune boundary = ParseSymbol(boundarySymbol, nameof(boundarySymbol));
        Rune? unknown = unknownSymbol is null ? null : ParseSymbol(unknownSymbol, nameof(unknownSymbol));
        if (unknown == boundary)
            throw new ArgumentException($"The unknown symbol '{unknown}' must differ from the boundary symbol.", nameof(unknownSymbol));

        var seen = new HashSet<Rune>();
        for (int i = 0; i < names.Count; i++)
        {
            int position = 0;
            foreach (Rune rune in names[i].EnumerateRunes())
            {
                position++;
                if (rune == boundary)
                    throw corpusError(
                        $"The boundary symbol '{boundary}' occurs in the corpus at {describe(i)}, character {position}; choose a boundary symbol the corpus does not use.",
                        nameof(boundarySymbol));
                if (rune == unknown)
                    throw corpusError(
                        $"The unknown symbol '{unknown}' occurs in the corpus at {describe(i)}, character {position}; choose an unknown symbol the corpus does not use.",
                        nameof(unknownSymbol));
                seen.Add(rune);
            }
        }

        var symbols = new List<Rune>(seen.Count + 2) { boundary };
        symbols.AddRange(seen.Order()); // Rune compares by code point
        if (unknown is Rune u) symbols.Add(u);
        return new Vocabulary([.. symbols], unknown is not null);
    }

    private static Rune ParseSymbol(string symbol, string parameter)
    {
        if (symbol is null) throw new ArgumentNullException(parameter);
        if (Rune.DecodeFromUtf16(symbol, out Rune rune, out int consumed) != System.Buffers.OperationStatus.Done
            || consumed != symbol.Length || Rune.IsControl(rune))
            throw new ArgumentException($"A symbol must be exactly one printable Unicode character; got \"{symbol}\".", parameter);
        return rune;
    }
}
