namespace Microsoft.ML.BatchNormMlp.Model;

/// <summary>
/// Every activation and gradient buffer a forward and backward pass of one batch size needs, allocated once so
/// that a training step allocates nothing. Forward keeps what backward reads: the input, each layer's Linear
/// output, its normalized-and-activated output and the residual stream after it.
/// </summary>
internal sealed class Workspace
{
    public Workspace(MlpNetwork network, int batch)
    {
        var c = network.Config;
        int layers = c.HiddenWidths.Count;
        Batch = batch;
        Input = new float[batch * c.InputWidth];                 // [B, In]
        Ids = c.IsDense ? [] : new int[batch * c.ContextLength];   // [B, ctx]
        LinearOut = new float[layers][];
        Activated = new float[layers][];
        Stream = new float[layers][];
        int maxWidth = Math.Max(c.InputWidth, c.OutputWidth);
        for (int i = 0; i < layers; i++)
        {
            int w = network.LayerInputWidth(i), o = c.HiddenWidths[i];
            maxWidth = Math.Max(maxWidth, o);
            bool add = network.AddsResidual(i);
            if (c.BlockStyle == BlockStyle.PostActivation)
            {
                LinearOut[i] = new float[batch * o];                    // z = linear(h)        [B, o]
                Activated[i] = new float[batch * o];                    // y = act(bn(z))       [B, o]
                Stream[i] = add ? new float[batch * o] : Activated[i];  // h + y, or y itself
            }
            else
            {
                Activated[i] = i == 0 ? [] : new float[batch * w];      // a = act(bn(h))       [B, w]
                Stream[i] = new float[batch * o];                       // h + linear(a)        [B, o]
                LinearOut[i] = add ? [] : Stream[i];                    // only separate from the stream without the add
            }
        }
        OutputLinear = new float[batch * c.OutputWidth];                          // [B, K]
        Logits = c.OutputBatchNorm ? new float[batch * c.OutputWidth] : OutputLinear;
        DLogits = new float[batch * c.OutputWidth];
        DOutputLinear = c.OutputBatchNorm ? new float[batch * c.OutputWidth] : DLogits;
        GradientA = new float[batch * maxWidth];
        GradientB = new float[batch * maxWidth];
        Scratch = new float[batch * maxWidth];
    }

    public int Batch { get; }

    public float[] Input { get; }

    public int[] Ids { get; }

    public float[][] LinearOut { get; }

    public float[][] Activated { get; }

    public float[][] Stream { get; }

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
