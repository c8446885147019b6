using System.Buffers.Binary;
using Google.Protobuf;

namespace Microsoft.ML.BatchNormMlp.Export.Onnx;

/// <summary>
/// The few ONNX protobuf messages the exporter needs, written field by field with <see cref="CodedOutputStream"/>
/// (no protoc here). Field numbers are those of onnx/onnx.proto (IR version 8). Each method serializes one message
/// to bytes; a parent embeds children as length-delimited fields. Repeated scalars are written unpacked, as proto2
/// (which onnx.proto is) does by default; every parser accepts that.
/// </summary>
internal static class OnnxProto
{
    public const int IrVersion = 8;
    public const int ElemFloat = 1; // TensorProto.DataType.FLOAT
    public const int ElemInt64 = 7; // TensorProto.DataType.INT64
    public const int ElemUInt32 = 12; // TensorProto.DataType.UINT32

    private const int AttrFloat = 1, AttrInt = 2; // AttributeProto.AttributeType

    /// <summary>A dimension of a value's shape: a fixed size, or a symbolic name such as "N" for a dynamic batch axis.</summary>
    public readonly record struct Dim(long Value, string? Param = null)
    {
        public static implicit operator Dim(long value) => new(value);
        public static implicit operator Dim(string param) => new(0, param);
    }

    /// <summary>ModelProto: ir_version = 1, producer_name = 2, producer_version = 3, graph = 7, opset_import = 8.</summary>
    public static byte[] Model(byte[] graph, int opset, string producer, string producerVersion) => Message(w =>
    {
        w.WriteTag(1, WireFormat.WireType.Varint); w.WriteInt64(IrVersion);
        WriteString(w, 2, producer);
        WriteString(w, 3, producerVersion);
        WriteBytes(w, 7, graph);
        // OperatorSetIdProto: domain = 1 (empty: the default ONNX domain), version = 2.
        WriteBytes(w, 8, Message(o => { WriteString(o, 1, ""); o.WriteTag(2, WireFormat.WireType.Varint); o.WriteInt64(opset); }));
    });

    /// <summary>GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12.</summary>
    public static byte[] Graph(string name, IEnumerable<byte[]> nodes, IEnumerable<byte[]> initializers, IEnumerable<byte[]> inputs, IEnumerable<byte[]> outputs) => Message(w =>
    {
        foreach (var n in nodes) WriteBytes(w, 1, n);
        WriteString(w, 2, name);
        foreach (var t in initializers) WriteBytes(w, 5, t);
        foreach (var i in inputs) WriteBytes(w, 11, i);
        foreach (var o in outputs) WriteBytes(w, 12, o);
    });

    /// <summary>NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5.</summary>
    public static byte[] Node(string opType, string name, string[] inputs, string[] outputs, params byte[][] attributes) => Message(w =>
    {
        foreach (var i in inputs) WriteString(w, 1, i);
        foreach (var o in outputs) WriteString(w, 2, o);
        WriteString(w, 3, name);
        WriteString(w, 4, opType);
        foreach (var a in attributes) WriteBytes(w, 5, a);
    });

    /// <summary>AttributeProto with an int: name = 1, i = 3, type = 20.</summary>
    public static byte[] IntAttribute(string name, long value) => Message(w =>
    {
        WriteString(w, 1, name);
        w.WriteTag(3, WireFormat.WireType.Varint); w.WriteInt64(value);
        w.WriteTag(20, WireFormat.WireType.Varint); w.WriteEnum(AttrInt);
    });

    /// <summary>AttributeProto with a float: name = 1, f = 2, type = 20.</summary>
    public static byte[] FloatAttribute(string name, float value) => Message(w =>
    {
        WriteString(w, 1, name);
        w.WriteTag(2, WireFormat.WireType.Fixed32); w.WriteFloat(value);
        w.WriteTag(20, WireFormat.WireType.Varint); w.WriteEnum(AttrFloat);
    });

    /// <summary>TensorProto holding float32 data: dims = 1, data_type = 2, name = 8, raw_data = 9 (little-endian).</summary>
    public static byte[] FloatTensor(string name, long[] dims, ReadOnlySpan<float> data)
    {
        var raw = new byte[data.Length * sizeof(float)];
        for (int i = 0; i < data.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * sizeof(float)), data[i]);
        return Tensor(name, dims, ElemFloat, raw);
    }

    /// <summary>TensorProto holding int64 data (for shape operands).</summary>
    public static byte[] Int64Tensor(string name, long[] dims, ReadOnlySpan<long> data)
    {
        var raw = new byte[data.Length * sizeof(long)];
        for (int i = 0; i < data.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(raw.AsSpan(i * sizeof(long)), data[i]);
        return Tensor(name, dims, ElemInt64, raw);
    }

    /// <summary>TensorProto holding uint32 data (for the key offset of key-value inputs).</summary>
    public static byte[] UInt32Tensor(string name, long[] dims, ReadOnlySpan<uint> data)
    {
        var raw = new byte[data.Length * sizeof(uint)];
        for (int i = 0; i < data.Length; i++) BinaryPrimitives.WriteUInt32LittleEndian(raw.AsSpan(i * sizeof(uint)), data[i]);
        return Tensor(name, dims, ElemUInt32, raw);
    }

    private static byte[] Tensor(string name, long[] dims, int dataType, byte[] raw) => Message(w =>
    {
        foreach (long d in dims) { w.WriteTag(1, WireFormat.WireType.Varint); w.WriteInt64(d); }
        w.WriteTag(2, WireFormat.WireType.Varint); w.WriteInt32(dataType);
        WriteString(w, 8, name);
        w.WriteTag(9, WireFormat.WireType.LengthDelimited); w.WriteBytes(ByteString.CopyFrom(raw));
    });

    /// <summary>
    /// ValueInfoProto (name = 1, type = 2) of a tensor: TypeProto.tensor_type = 1 → Tensor (elem_type = 1, shape = 2)
    /// → TensorShapeProto (dim = 1) → Dimension (dim_value = 1 | dim_param = 2).
    /// </summary>
    public static byte[] TensorValueInfo(string name, int elemType, params Dim[] shape) => Message(w =>
    {
        WriteString(w, 1, name);
        var shapeProto = Message(s =>
        {
            foreach (var d in shape)
                WriteBytes(s, 1, Message(dim =>
                {
                    if (d.Param is not null) WriteString(dim, 2, d.Param);
                    else { dim.WriteTag(1, WireFormat.WireType.Varint); dim.WriteInt64(d.Value); }
                }));
        });
        var tensorType = Message(t =>
        {
            t.WriteTag(1, WireFormat.WireType.Varint); t.WriteInt32(elemType);
            WriteBytes(t, 2, shapeProto);
        });
        WriteBytes(w, 2, Message(type => WriteBytes(type, 1, tensorType)));
    });

    private static byte[] Message(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        using (var output = new CodedOutputStream(buffer, leaveOpen: true))
        {
            write(output);
            output.Flush();
        }
        return buffer.ToArray();
    }

    private static void WriteString(CodedOutputStream w, int field, string value)
    {
        w.WriteTag(field, WireFormat.WireType.LengthDelimited);
        w.WriteString(value);
    }

    private static void WriteBytes(CodedOutputStream w, int field, byte[] message)
    {
        w.WriteTag(field, WireFormat.WireType.LengthDelimited);
        w.WriteBytes(ByteString.CopyFrom(message));
    }
}
