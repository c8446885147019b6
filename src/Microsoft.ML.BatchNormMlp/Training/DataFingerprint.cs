using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.ML.BatchNormMlp.Model;

namespace Microsoft.ML.BatchNormMlp.Training;

/// <summary>
/// A SHA-256 of a training set's rows, so that a checkpoint can refuse to continue on different data (which would
/// silently break the exact resume: the sampler's state indexes rows). It covers the kind, the row width, the
/// row count, every id or feature and every label, little-endian.
/// </summary>
internal static class DataFingerprint
{
    /// <summary>The hash as 64 lowercase hexadecimal digits.</summary>
    public static string Compute(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> head = stackalloc byte[12];
        BinaryPrimitives.WriteInt32LittleEndian(head, data.IsDense ? 1 : 0);
        BinaryPrimitives.WriteInt32LittleEndian(head[4..], data.RowWidth);
        BinaryPrimitives.WriteInt32LittleEndian(head[8..], data.Count);
        hash.AppendData(head);
        if (data.IsDense) Append(hash, MemoryMarshal.AsBytes(data.Features.AsSpan()), sizeof(float));
        else Append(hash, MemoryMarshal.AsBytes(data.Contexts.AsSpan()), sizeof(int));
        Append(hash, MemoryMarshal.AsBytes(data.Labels.AsSpan()), sizeof(int));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static void Append(IncrementalHash hash, ReadOnlySpan<byte> bytes, int elementSize)
    {
        if (BitConverter.IsLittleEndian) { hash.AppendData(bytes); return; }
        Span<byte> swapped = stackalloc byte[4];
        for (int i = 0; i < bytes.Length; i += elementSize)
        {
            bytes.Slice(i, elementSize).CopyTo(swapped);
            swapped[..elementSize].Reverse();
            hash.AppendData(swapped[..elementSize]);
        }
    }
}
