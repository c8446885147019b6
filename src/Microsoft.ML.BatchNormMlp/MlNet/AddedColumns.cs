using Microsoft.ML.Data;

namespace Microsoft.ML.BatchNormMlp.MlNet;

/// <summary>One column a row-to-row transformer adds: its name, type and annotations.</summary>
internal sealed record AddedColumn(string Name, DataViewType Type, DataViewSchema.Annotations? Annotations = null);

/// <summary>
/// What a row-to-row transformer adds to its input: the output schema (every input column, then the added ones,
/// which hide input columns of the same name, as ML.NET's own transformers do), which input columns each added
/// column reads, and how to compute the added columns from one input row. <see cref="MappedDataView"/> (lazy
/// <c>Transform</c>) and <see cref="MappedRowToRowMapper"/> (prediction engines) both run on it, so the two
/// paths cannot disagree.
/// </summary>
internal abstract class AddedColumns
{
    protected AddedColumns(DataViewSchema inputSchema, IReadOnlyList<AddedColumn> columns)
    {
        InputSchema = inputSchema;
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        foreach (var c in columns) builder.AddColumn(c.Name, c.Type, c.Annotations);
        OutputSchema = builder.ToSchema();
        Count = columns.Count;
    }

    public DataViewSchema InputSchema { get; }

    public DataViewSchema OutputSchema { get; }

    /// <summary>Number of added columns; they are the last <see cref="Count"/> columns of <see cref="OutputSchema"/>.</summary>
    public int Count { get; }

    /// <summary>Index in <see cref="OutputSchema"/> of the first added column.</summary>
    public int FirstAdded => InputSchema.Count;

    /// <summary>The input columns the added columns read (all of them read the same ones here).</summary>
    public abstract IEnumerable<DataViewSchema.Column> Dependencies { get; }

    /// <summary>
    /// Getters of the added columns over <paramref name="input"/>, null where <paramref name="active"/> is false.
    /// The getters of one call may share work (one forward pass serves both Score and PredictedLabel of a row).
    /// </summary>
    public abstract Delegate?[] MakeGetters(DataViewRow input, bool[] active);

    /// <summary>
    /// Getters for a cursor that walks <paramref name="source"/> from its start (the lazy <c>Transform</c>). By default
    /// the row getters; a mapping that computes faster in blocks may read ahead with its own cursor over the source,
    /// which sees the same rows in the same order when <paramref name="shuffled"/> is false. <paramref name="resource"/>
    /// is disposed with the cursor.
    /// </summary>
    public virtual Delegate?[] MakeCursorGetters(DataViewRowCursor input, IDataView source, bool[] active, bool shuffled, out IDisposable? resource)
    {
        resource = null;
        return MakeGetters(input, active);
    }

    /// <summary>The input columns needed to serve <paramref name="outputColumns"/>.</summary>
    public IEnumerable<DataViewSchema.Column> InputColumnsFor(IEnumerable<DataViewSchema.Column> outputColumns, out bool[] activeAdded)
    {
        activeAdded = new bool[Count];
        var needed = new HashSet<int>();
        foreach (var c in outputColumns)
        {
            if (c.Index < FirstAdded) needed.Add(c.Index);
            else activeAdded[c.Index - FirstAdded] = true;
        }
        if (activeAdded.Any(a => a))
            foreach (var d in Dependencies) needed.Add(d.Index);
        return needed.Order().Select(i => InputSchema[i]);
    }
}

/// <summary>A row (or cursor) of a <see cref="AddedColumns"/> output: input columns pass through, added ones are computed.</summary>
internal sealed class MappedCursor : DataViewRowCursor
{
    private readonly AddedColumns _map;
    private readonly DataViewRow _input;
    private readonly Delegate?[] _getters;
    private readonly IDisposable? _resource;

    public MappedCursor(AddedColumns map, DataViewRow input, bool[] activeAdded)
    {
        _map = map;
        _input = input;
        _getters = map.MakeGetters(input, activeAdded);
    }

    public MappedCursor(AddedColumns map, DataViewRowCursor input, IDataView source, bool[] activeAdded, bool shuffled)
    {
        _map = map;
        _input = input;
        _getters = map.MakeCursorGetters(input, source, activeAdded, shuffled, out _resource);
    }

    public override DataViewSchema Schema => _map.OutputSchema;

    public override long Position => _input.Position;

    public override long Batch => _input.Batch;

    public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();

    public override bool IsColumnActive(DataViewSchema.Column column) =>
        column.Index < _map.FirstAdded ? _input.IsColumnActive(_map.InputSchema[column.Index]) : _getters[column.Index - _map.FirstAdded] is not null;

    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
    {
        if (column.Index < _map.FirstAdded) return _input.GetGetter<TValue>(_map.InputSchema[column.Index]);
        var getter = _getters[column.Index - _map.FirstAdded]
            ?? throw new InvalidOperationException($"Column '{column.Name}' is not active in this row; request it when creating the cursor.");
        return getter as ValueGetter<TValue>
            ?? throw new InvalidOperationException($"Column '{column.Name}' is of type {column.Type}; a getter of {typeof(TValue).Name} cannot read it.");
    }

    public override bool MoveNext() => _input is DataViewRowCursor cursor
        ? cursor.MoveNext()
        : throw new InvalidOperationException("This row maps a single input row; it is not a cursor.");

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (_input is DataViewRowCursor cursor) cursor.Dispose();
            _resource?.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>The lazy output of a row-to-row transformer's <c>Transform</c>: nothing is computed until a cursor asks.</summary>
internal sealed class MappedDataView(IDataView source, AddedColumns map) : IDataView
{
    public DataViewSchema Schema => map.OutputSchema;

    public bool CanShuffle => source.CanShuffle;

    public long? GetRowCount() => source.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var inputs = map.InputColumnsFor(columnsNeeded, out var active);
        return new MappedCursor(map, source.GetRowCursor(inputs, rand), source, active, shuffled: rand is not null);
    }

    // Parallel cursors split the rows among themselves in an order of the source's choosing: row getters, no read-ahead.
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
    {
        var inputs = map.InputColumnsFor(columnsNeeded, out var active);
        var cursors = source.GetRowCursorSet(inputs, n, rand);
        if (cursors.Length == 1) return [new MappedCursor(map, cursors[0], source, active, shuffled: rand is not null)];
        return [.. cursors.Select(c => (DataViewRowCursor)new MappedCursor(map, c, active))];
    }
}

/// <summary>The row-to-row mapper a prediction engine uses: one input row in, the same row with the added columns out.</summary>
internal sealed class MappedRowToRowMapper(AddedColumns map) : IRowToRowMapper
{
    public DataViewSchema InputSchema => map.InputSchema;

    public DataViewSchema OutputSchema => map.OutputSchema;

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns) =>
        map.InputColumnsFor(dependingColumns, out _);

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
    {
        ArgumentNullException.ThrowIfNull(input);
        map.InputColumnsFor(activeColumns, out var active);
        return new MappedCursor(map, input, active);
    }
}
