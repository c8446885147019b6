namespace Microsoft.ML.BatchNormMlp.Numerics;

/// <summary>
/// Dense row-major float32 matrix products in the three orientations that a Linear layer needs:
/// forward <c>Y = X·Wᵀ</c> (<see cref="MultiplyNT"/>), input gradient <c>dX = dY·W</c> (<see cref="MultiplyNN"/>)
/// and weight gradient <c>dW = dYᵀ·X</c> (<see cref="MultiplyTN"/>).
/// All operands are contiguous (leading dimension = column count); spans may be longer than needed; C must not
/// overlap A or B. With <c>accumulate</c> the product is added to C (what a residual branch or a shared gradient
/// needs); otherwise C is overwritten. <c>threads</c> caps how many threads (the caller plus pool workers) may work
/// on one call; products under a million FLOPs always run on the caller alone.
/// Results are deterministic and do not even depend on the thread count: every output element is reduced by the
/// same chain of fused multiply-adds over p = 0..k-1, on every thread count and SIMD path. After warm-up a call
/// allocates nothing.
/// </summary>
/// <remarks>
/// How: A is packed once per call into 8-row slivers, B into zero-padded panels of up to 48 columns (transposed for
/// NT; for NN and TN only a ragged last panel is copied, full panels are read in place), and a register-blocked
/// 8 x 48 microkernel (<see cref="GemmKernels"/>) runs over the tiles, storing ragged edges with masks. NT with at
/// most <see cref="TransposedNTMaxRows"/> rows (every training batch) instead computes Cᵀ = W·Aᵀ: it packs the small
/// Aᵀ, reads the weight rows in place and transposes 8 x 8 blocks on store, so no call transposes a weight matrix.
/// Threads share out column panels (or chunks of 8-row blocks) through <see cref="WorkerPool"/>.
/// </remarks>
internal static unsafe class Gemm
{
    // Below this many FLOPs a second thread costs more to wake than it saves.
    private const long MinParallelFlops = 1_000_000;

    [ThreadStatic] private static ScratchBuffer? t_packedA;
    [ThreadStatic] private static ScratchBuffer? t_packedB;

    /// <summary>
    /// C[m,n] (+)= A[m,k] · B[n,k]ᵀ (+ bias[n] broadcast over rows). The bias, when not empty, is added after the
    /// product: <c>C = ((accumulate ? C : 0) + A·Bᵀ) + bias</c>, so a Linear forward needs no second pass.
    /// </summary>
    public static void MultiplyNT(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k, bool accumulate = false, int threads = 1, ReadOnlySpan<float> bias = default)
        => Multiply(Orientation.NT, a, b, c, m, n, k, accumulate, threads, bias, SimdLevels.Best);

    /// <summary>C[m,n] (+)= A[m,k] · B[k,n].</summary>
    public static void MultiplyNN(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k, bool accumulate = false, int threads = 1)
        => Multiply(Orientation.NN, a, b, c, m, n, k, accumulate, threads, default, SimdLevels.Best);

    /// <summary>C[m,n] (+)= A[k,m]ᵀ · B[k,n].</summary>
    public static void MultiplyTN(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k, bool accumulate = false, int threads = 1)
        => Multiply(Orientation.TN, a, b, c, m, n, k, accumulate, threads, default, SimdLevels.Best);

    /// <summary>How A and B are stored: NT = A[m,k], B[n,k]; NN = A[m,k], B[k,n]; TN = A[k,m], B[k,n].</summary>
    internal enum Orientation { NT, NN, TN }

    /// <summary>The one implementation behind the three entry points; tests pass a narrower <paramref name="level"/>.</summary>
    internal static void Multiply(Orientation orientation, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c,
        int m, int n, int k, bool accumulate, int threads, ReadOnlySpan<float> bias, SimdLevel level)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Check(a.Length, (long)m * k, nameof(a));
        Check(b.Length, (long)n * k, nameof(b));
        Check(c.Length, (long)m * n, nameof(c));
        if (!bias.IsEmpty) Check(bias.Length, n, nameof(bias));
        if (m == 0 || n == 0) return;

        if (orientation == Orientation.NT && level == SimdLevel.Vector512 && m <= TransposedNTMaxRows)
        {
            MultiplyTransposedNT(a, b, c, m, n, k, accumulate, threads, bias, level);
            return;
        }

        int lanes = GemmKernels.Lanes(level);
        int panelWidth = lanes * GemmKernels.MaxVectors;
        int rowBlocks = (m + GemmKernels.Mr - 1) / GemmKernels.Mr;
        int panels = (n + panelWidth - 1) / panelWidth;

        fixed (float* pa = a, pb = b, pc = c, pbias = bias)
        {
            t_packedA ??= new ScratchBuffer();
            float* packedA = t_packedA.Get((long)rowBlocks * k * GemmKernels.Mr);
            PackA(orientation, pa, m, k, rowBlocks, packedA, level);

            var job = new Job
            {
                B = pb, C = pc, Bias = bias.IsEmpty ? null : pbias, PackedA = packedA,
                Ldb = orientation == Orientation.NT ? k : n, BTransposed = orientation == Orientation.NT,
                M = m, N = n, K = k, RowBlocks = rowBlocks, Panels = panels, PanelWidth = panelWidth, Lanes = lanes,
                Accumulate = accumulate, Level = level,
            };

            // Units of work: column panels (each packs its B panel once) when there are enough of them, otherwise
            // chunks of 8-row blocks (each packs every panel). Either way an element's arithmetic does not depend
            // on the unit it falls in or the thread that runs it.
            int participants = 2L * m * n * k < MinParallelFlops ? 1 : Math.Min(threads, WorkerPool.MaxParticipants);
            job.RowChunks = participants > 1 && panels < 2 * participants ? Math.Min(rowBlocks, 4 * participants) : 1;
            int units = job.RowChunks > 1 ? job.RowChunks : panels;
            if (participants <= 1) for (int unit = 0; unit < units; unit++) Execute(&job, unit);
            else WorkerPool.Shared.Run(units, participants, &Execute, &job);
        }
    }

    // Up to this many rows of A, NT packs Aᵀ (m·k floats) and reads W in place instead of packing Wᵀ (n·k floats).
    internal const int TransposedNTMaxRows = 256;

    // C = A·Wᵀ computed as Cᵀ = W·Aᵀ: 8 rows of W (8 output columns) against 48-row panels of packed Aᵀ, transposed
    // on store. For a training batch this packs 32·k floats instead of transposing the whole weight matrix.
    private static void MultiplyTransposedNT(ReadOnlySpan<float> a, ReadOnlySpan<float> w, Span<float> c, int m, int n, int k,
        bool accumulate, int threads, ReadOnlySpan<float> bias, SimdLevel level)
    {
        const int PanelRows = 48;
        int panels = (m + PanelRows - 1) / PanelRows, columnBlocks = (n + 7) / 8;
        fixed (float* pa = a, pw = w, pc = c, pbias = bias)
        {
            t_packedA ??= new ScratchBuffer();
            float* packed = t_packedA.Get((long)panels * k * PanelRows);
            for (int q = 0; q < panels; q++)
            {
                int i0 = q * PanelRows, rows = Math.Min(PanelRows, m - i0), width = (rows + 15) / 16 * 16;
                GemmPacking.TransposeRows(pa + (long)i0 * k, k, rows, width, k, packed + (long)q * k * PanelRows, level);
            }
            var job = new TransposedJob
            {
                W = pw, C = pc, Bias = bias.IsEmpty ? null : pbias, PackedAT = packed,
                M = m, N = n, K = k, Panels = panels, ColumnBlocks = columnBlocks, Accumulate = accumulate,
            };
            int participants = 2L * m * n * k < MinParallelFlops ? 1 : Math.Min(threads, WorkerPool.MaxParticipants);
            job.Units = participants > 1 ? Math.Min(columnBlocks, 8 * participants) : 1;
            if (job.Units <= 1) ExecuteTransposed(&job, 0);
            else WorkerPool.Shared.Run(job.Units, participants, &ExecuteTransposed, &job);
        }
    }

    private struct TransposedJob
    {
        public float* W, C, Bias, PackedAT;
        public int M, N, K, Panels, ColumnBlocks, Units;
        public bool Accumulate;
    }

    // One unit: a contiguous range of 8-column blocks of C, over all row panels.
    private static void ExecuteTransposed(void* state, int unit)
    {
        const int PanelRows = 48;
        TransposedJob* job = (TransposedJob*)state;
        int k = job->K, n = job->N;
        float* scratch = stackalloc float[8 * PanelRows];
        int b0 = (int)((long)job->ColumnBlocks * unit / job->Units), b1 = (int)((long)job->ColumnBlocks * (unit + 1) / job->Units);
        for (int jb = b0; jb < b1; jb++)
        {
            int j0 = jb * 8, cols = Math.Min(8, n - j0);
            float* rows = job->W + (long)j0 * k;
            if (cols < 8)
            {
                // The last rows of W, zero-padded to 8: the kernel reads all 8 rows.
                float* padded = PanelBuffer(8L * k);
                new ReadOnlySpan<float>(rows, cols * k).CopyTo(new Span<float>(padded, cols * k));
                new Span<float>(padded + (long)cols * k, (8 - cols) * k).Clear();
                rows = padded;
            }
            float* bias = job->Bias == null ? null : job->Bias + j0;
            for (int q = 0; q < job->Panels; q++)
            {
                int i0 = q * PanelRows, m = Math.Min(PanelRows, job->M - i0), vectors = (m + 15) / 16;
                GemmKernels.TileTransposed512(vectors, rows, k, job->PackedAT + (long)q * k * PanelRows, vectors * 16, k,
                    job->C + (long)i0 * n + j0, n, bias, job->Accumulate, m, cols, scratch);
            }
        }
    }

    private static void PackA(Orientation orientation, float* a, int m, int k, int rowBlocks, float* packed, SimdLevel level)
    {
        const int Mr = GemmKernels.Mr;
        for (int ib = 0; ib < rowBlocks; ib++)
        {
            int i0 = ib * Mr, rows = Math.Min(Mr, m - i0);
            float* dst = packed + (long)ib * k * Mr;
            if (orientation == Orientation.TN) GemmPacking.CopyRows(a + i0, m, rows, Mr, k, dst, level); // A[k,m]
            else GemmPacking.TransposeRows(a + (long)i0 * k, k, rows, Mr, k, dst, level);              // A[m,k]
        }
    }

    private struct Job
    {
        public float* B, C, Bias, PackedA;
        public nint Ldb;
        public bool BTransposed, Accumulate;
        public int M, N, K, RowBlocks, Panels, PanelWidth, Lanes, RowChunks;
        public SimdLevel Level;
    }

    // One unit: a column panel over all row blocks, or (RowChunks > 1) a chunk of row blocks over all panels.
    private static void Execute(void* state, int unit)
    {
        const int Mr = GemmKernels.Mr;
        Job* job = (Job*)state;
        int p0 = 0, p1 = job->Panels, r0 = 0, r1 = job->RowBlocks;
        if (job->RowChunks > 1)
        {
            r0 = (int)((long)job->RowBlocks * unit / job->RowChunks);
            r1 = (int)((long)job->RowBlocks * (unit + 1) / job->RowChunks);
        }
        else { p0 = unit; p1 = unit + 1; }

        int k = job->K, n = job->N;
        for (int q = p0; q < p1; q++)
        {
            int j0 = q * job->PanelWidth, cols = Math.Min(job->PanelWidth, n - j0);
            int vectors = (cols + job->Lanes - 1) / job->Lanes, width = vectors * job->Lanes;
            float* bp; nint ldb;
            if (job->BTransposed)
            {
                bp = PanelBuffer((long)k * width);
                GemmPacking.TransposeRows(job->B + j0 * job->Ldb, job->Ldb, cols, width, k, bp, job->Level);
                ldb = width;
            }
            else if (cols == width) { bp = job->B + j0; ldb = job->Ldb; }
            else
            {
                // A ragged last panel is copied with zero padding: reading it in place could run past the end of B.
                bp = PanelBuffer((long)k * width);
                GemmPacking.CopyRows(job->B + j0, job->Ldb, cols, width, k, bp, job->Level);
                ldb = width;
            }

            float* bias = job->Bias == null ? null : job->Bias + j0;
            for (int ib = r0; ib < r1; ib++)
            {
                int i0 = ib * Mr;
                GemmKernels.Tile(job->Level, vectors, job->PackedA + (long)ib * k * Mr, bp, ldb, k,
                    job->C + (long)i0 * n + j0, n, bias, job->Accumulate, Math.Min(Mr, job->M - i0), cols);
            }
        }
    }

    private static float* PanelBuffer(long count) => (t_packedB ??= new ScratchBuffer()).Get(count);

    private static void Check(int actual, long required, string name)
    {
        if (actual < required)
            throw new ArgumentException($"Span '{name}' holds {actual} floats but the product needs {required}.", name);
    }
}
