using Microsoft.ML.Data;

namespace Microsoft.ML.BatchNormMlp.MlNet;

/// <summary>
/// The featurizer's output: each input row's name becomes n + 1 rows (the seeds' <c>build_dataset</c>), read
/// lazily from the input. The input's columns pass through (a name's rows repeat its other values); the context
/// (vector of keys) and label (key) columns are added after them. Key value = vocabulary id + 1.
/// </summary>
internal sealed class ContextWindowDataView : IDataView
{
    private readonly IDataView _source;
    private readonly DataViewSchema.Column _names;
    private readonly ContextWindowTransformer _featurizer;

    public ContextWindowDataView(IDataView source, DataViewSchema.Column names, ContextWindowTransformer featurizer)
    {
        _source = source;
        _names = names;
        _featurizer = featurizer;
        Schema = OutputSchema(source.Schema, featurizer);
    }

    public static DataViewSchema OutputSchema(DataViewSchema input, ContextWindowTransformer f)
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(input);
        var key = VocabularyColumns.KeyType(f.Vocabulary);
        var annotations = VocabularyColumns.KeyAnnotations(f.Vocabulary);
        builder.AddColumn(f.OutputColumnName, new VectorDataViewType(key, f.ContextLength), annotations);
        builder.AddColumn(f.LabelColumnName, key, annotations);
        return builder.ToSchema();
    }

    public DataViewSchema Schema { get; }

    public bool CanShuffle => false;

    public long? GetRowCount() => null;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        int inputCount = _source.Schema.Count;
        var needed = columnsNeeded.Where(c => c.Index < inputCount).Select(c => _source.Schema[c.Index]).Append(_names).Distinct();
        var active = new bool[Schema.Count];
        foreach (var c in columnsNeeded) active[c.Index] = true;
        return new Cursor(this, _source.GetRowCursor(needed), active);
    }

    // Rows of one name must stay together and in order, so there is one cursor.
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly ContextWindowDataView _view;
        private readonly DataViewRowCursor _input;
        private readonly bool[] _active;
        private readonly ValueGetter<ReadOnlyMemory<char>> _nameGetter;
        private readonly int _contextColumn, _labelColumn, _n;
        private int[] _ids = new int[64];   // the current name's ids
        private int _length = -1;           // its symbols; -1 before the first name
        private int _row;                   // the current row within the name, 0 .. _length
        private long _position = -1;
        private ReadOnlyMemory<char> _name;

        public Cursor(ContextWindowDataView view, DataViewRowCursor input, bool[] active)
        {
            _view = view;
            _input = input;
            _active = active;
            _nameGetter = input.GetGetter<ReadOnlyMemory<char>>(view._names);
            _contextColumn = view._source.Schema.Count;
            _labelColumn = _contextColumn + 1;
            _n = view._featurizer.ContextLength;
        }

        public override DataViewSchema Schema => _view.Schema;

        public override long Position => _position;

        public override long Batch => 0;

        public override ValueGetter<DataViewRowId> GetIdGetter() =>
            (ref DataViewRowId id) => id = new DataViewRowId((ulong)_position, 0);

        public override bool IsColumnActive(DataViewSchema.Column column) => _active[column.Index];

        public override bool MoveNext()
        {
            if (_length >= 0 && _row < _length) { _row++; _position++; return true; }
            if (!_input.MoveNext()) return false;
            _nameGetter(ref _name);
            _length = SymbolEncoding.Encode(_name.Span, _view._featurizer.Vocabulary, ref _ids, _view._names.Name, _input.Position);
            _row = 0;
            _position++;
            return true;
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!_active[column.Index])
                throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor; request it when creating the cursor.");
            if (column.Index < _contextColumn) return _input.GetGetter<TValue>(_view._source.Schema[column.Index]);
            if (column.Index == _contextColumn)
            {
                ValueGetter<VBuffer<uint>> context = (ref VBuffer<uint> value) =>
                {
                    var editor = VBufferEditor.Create(ref value, _n);
                    int from = _row - _n;
                    for (int k = 0; k < _n; k++) editor.Values[k] = (uint)(from + k >= 0 ? _ids[from + k] : Vocabulary.BoundaryId) + 1;
                    value = editor.Commit();
                };
                return context as ValueGetter<TValue> ?? throw WrongType(column);
            }
            ValueGetter<uint> label = (ref uint value) => value = (uint)(_row < _length ? _ids[_row] : Vocabulary.BoundaryId) + 1;
            return label as ValueGetter<TValue> ?? throw WrongType(column);
        }

        private static InvalidOperationException WrongType(DataViewSchema.Column column) =>
            new($"Column '{column.Name}' is of type {column.Type}; read it with the matching getter type.");

        protected override void Dispose(bool disposing)
        {
            if (disposing) _input.Dispose();
            base.Dispose(disposing);
        }
    }
}
