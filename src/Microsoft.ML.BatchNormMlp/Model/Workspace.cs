namespace Microsoft.ML.BatchNormMlp.Model;

/// <summary>
/// Every activation and gradient buffer a forward and backward pass of one batch size needs, allocated once so
/// that a training step allocates nothing. Forward keeps what backward reads: the input, each layer's Linear
/// output, its normalized-and-activated output and the residual stream after it. Buffers may be longer than
/// [B, width] (forward-only workspaces share them between layers): always slice to the exact length.
/// </summary>
internal sealed class Workspace
{
    /// <param name="network">The network whose shapes the buffers take.</param>
    /// <param name="batch">Rows per batch.</param>
    /// <param name="forwardOnly">
    /// For evaluation: layers share two alternating sets of buffers instead of keeping every activation, so that
    /// evaluating a deep network in large chunks needs a few [B, width] buffers rather than three per layer.
    /// Backward cannot run on such a workspace.
    /// </param>
    public Workspace(MlpNetwork network, int batch, bool forwardOnly = false)
    {
        var c = network.Config;
        int layers = c.HiddenWidths.Count;
        Batch = batch;
        ForwardOnly = forwardOnly;
        Input = new float[batch * c.InputWidth];                 // [B, In]
        Ids = c.IsDense ? [] : new int[batch * c.ContextLength];   // [B, ctx]
        LinearOut = new float[layers][];
        Activated = new float[layers][];
        Stream = new float[layers][];
        Mask = new float[layers][];
        Dropped = new float[layers][];
        bool dropout = network.Dropout is not null && !forwardOnly;   // masks exist only in training workspaces
        int maxWidth = Math.Max(c.InputWidth, c.OutputWidth);
        foreach (int w in c.HiddenWidths) maxWidth = Math.Max(maxWidth, w);
        float[] Buffer(int width) => new float[batch * width];
        // Forward-only: layer i uses set i % 2, so that it never overwrites the stream it reads (set (i - 1) % 2).
        float[] sharedLinear = forwardOnly ? Buffer(maxWidth) : [];
        float[][] sharedActivated = forwardOnly ? [Buffer(maxWidth), Buffer(maxWidth)] : [];
        float[][] sharedStream = forwardOnly ? [Buffer(maxWidth), Buffer(maxWidth)] : [];
        for (int i = 0; i < layers; i++)
        {
            int w = network.LayerInputWidth(i), o = c.HiddenWidths[i];
            bool add = network.AddsResidual(i);
            if (c.BlockStyle == BlockStyle.PostActivation)
            {
                LinearOut[i] = forwardOnly ? sharedLinear : Buffer(o);                  // z = linear(h)        [B, o]
                Activated[i] = forwardOnly ? sharedActivated[i % 2] : Buffer(o);        // y = act(bn(z))       [B, o]
                // h + y, or y itself; with dropout h + y ⊙ mask, or y ⊙ mask in a buffer of its own (backward reads y)
                Stream[i] = !add ? (dropout ? Buffer(o) : Activated[i]) : forwardOnly ? sharedStream[i % 2] : Buffer(o);
                Mask[i] = dropout ? Buffer(o) : [];                                     // 0 or 1/(1-p)         [B, o]
                Dropped[i] = [];
            }
            else
            {
                Activated[i] = i == 0 ? [] : forwardOnly ? sharedActivated[i % 2] : Buffer(w);   // a = act(bn(h))   [B, w]
                Stream[i] = forwardOnly ? sharedStream[i % 2] : Buffer(o);             // h + linear(a)        [B, o]
                LinearOut[i] = add ? [] : Stream[i];                                  // only separate from the stream without the add
                Mask[i] = dropout && i > 0 ? Buffer(w) : [];                          // 0 or 1/(1-p)         [B, w]
                Dropped[i] = dropout && i > 0 ? Buffer(w) : [];                       // a ⊙ mask, the Linear's input [B, w]
            }
        }
        OutputLinear = Buffer(c.OutputWidth);                                         // [B, K]
        Logits = c.OutputBatchNorm ? Buffer(c.OutputWidth) : OutputLinear;
        DLogits = Buffer(c.OutputWidth);
        DOutputLinear = c.OutputBatchNorm && !forwardOnly ? Buffer(c.OutputWidth) : DLogits;
        GradientA = forwardOnly ? [] : Buffer(maxWidth);
        GradientB = forwardOnly ? [] : Buffer(maxWidth);
        Scratch = forwardOnly ? [] : Buffer(maxWidth);
    }

    /// <summary>Whether layers share buffers (evaluation only; see the constructor).</summary>
    public bool ForwardOnly { get; }

    public int Batch { get; }

    public float[] Input { get; }

    public int[] Ids { get; }

    public float[][] LinearOut { get; }

    public float[][] Activated { get; }

    public float[][] Stream { get; }

    /// <summary>Dropout's multipliers of each hidden block (training workspaces of a network with dropout; else empty).</summary>
    public float[][] Mask { get; }

    /// <summary>Whether the last forward pass into this workspace applied the masks (a training-mode pass): backward applies them only then.</summary>
    public bool LastForwardDropped { get; set; }

    /// <summary>Pre-activation blocks with dropout: the dropped activations the block's Linear reads (else empty).</summary>
    public float[][] Dropped { get; }

    public float[] OutputLinear { get; }

    public float[] Logits { get; }

    /// <summary>∂loss/∂logits, written by the loss.</summary>
    public float[] DLogits { get; }

    public float[] DOutputLinear { get; }

    /// <summary>Two buffers that the stream gradient alternates between, and one for a branch's gradient.</summary>
    public float[] GradientA { get; }

    public float[] GradientB { get; }

    public float[] Scratch { get; }
}
