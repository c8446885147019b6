using Microsoft.ML.BatchNormMlp.IO;
using Microsoft.ML.BatchNormMlp.Model;
using static Microsoft.ML.BatchNormMlp.Export.Onnx.OnnxProto;

namespace Microsoft.ML.BatchNormMlp.Export.Onnx;

/// <summary>
/// Exports a model (folded, or unfolded in evaluation mode) as an ONNX graph (IR version 8, opset 13) that
/// ONNX Runtime and the onnx checker accept. Input: int64 <c>ids</c> [N, context] (or float <c>features</c>
/// [N, width] for dense models) with a dynamic batch axis N; output: float <c>logits</c> [N, OutputWidth].
/// Nodes: Gather + Reshape (embedding), Gemm(transB=1) per Linear, BatchNormalization (unfolded) or Mul + Add
/// (folded pre-activation affine), Tanh/Relu, Add (residual). Initializers carry the layout's tensor names.
/// </summary>
internal static class OnnxExport
{
    public const int Opset = 13;
    public const string IdsInput = "ids", FeaturesInput = "features", LogitsOutput = "logits";

    /// <exception cref="ArgumentException">The model state is invalid (config, vocabulary, a tensor missing, misshapen or not finite); the message names it.</exception>
    public static byte[] ToBytes(ModelState model)
    {
        ModelValidation.Check(model, problem => new ArgumentException($"Cannot export to ONNX: {problem}.", nameof(model)));
        var builder = new GraphBuilder(model);
        return builder.Build();
    }

    /// <summary>Writes the ONNX model atomically (temp file in the same directory, then rename).</summary>
    public static void Save(string path, ModelState model)
    {
        AtomicFile.WriteAllBytes(path, ToBytes(model));
    }

    private sealed class GraphBuilder(ModelState model)
    {
        private readonly List<byte[]> _nodes = [];
        private readonly List<byte[]> _initializers = [];
        private readonly MlpConfig _c = model.Config;
        private int _counter;

        public byte[] Build()
        {
            foreach (var spec in model.Layout)
            {
                if (!model.Tensors.TryGetValue(spec.Name, out var data) || data.Length != spec.ElementCount)
                    throw new ArgumentException($"Cannot export: tensor '{spec.Name}' is missing or does not hold {spec.ElementCount} floats.", nameof(model));
                _initializers.Add(FloatTensor(spec.Name, spec.Shape.Select(d => (long)d).ToArray(), data));
            }

            byte[] input;
            string h;
            if (_c.IsDense)
            {
                input = TensorValueInfo(FeaturesInput, ElemFloat, "N", _c.DenseInputWidth);
                h = FeaturesInput;
            }
            else
            {
                input = TensorValueInfo(IdsInput, ElemInt64, "N", _c.ContextLength);
                var gathered = Node("Gather", "embedding.weight", IdsInput); // [N, ctx, E]
                _initializers.Add(Int64Tensor("embedding.flat_shape", [2], [-1, _c.InputWidth]));
                h = Node("Reshape", gathered, "embedding.flat_shape"); // [N, ctx*E]
            }

            bool post = _c.BlockStyle == BlockStyle.PostActivation;
            int width = _c.InputWidth;
            for (int i = 0; i < _c.HiddenWidths.Count; i++)
            {
                string p = $"hidden.{i}";
                int output = _c.HiddenWidths[i];
                string y;
                if (post)
                {
                    y = Linear(p + ".linear", h);
                    if (!model.Folded && _c.HiddenBatchNorm) y = BatchNorm(p + ".norm", y);
                    y = Activation(y);
                }
                else if (i == 0)
                {
                    y = Linear(p + ".linear", h);
                }
                else
                {
                    string z = h;
                    if (_c.HiddenBatchNorm)
                        z = model.Folded ? Node("Add", Node("Mul", z, p + ".affine.weight"), p + ".affine.bias") : BatchNorm(p + ".norm", z);
                    y = Linear(p + ".linear", Activation(z));
                }
                h = _c.Residual && i > 0 && output == width ? Node("Add", h, y) : y;
                width = output;
            }

            string logits = Linear("output", h);
            if (!model.Folded && _c.OutputBatchNorm) logits = BatchNorm("output_norm", logits);
            _nodes.Add(OnnxProto.Node("Identity", "logits", [logits], [LogitsOutput]));

            var outputInfo = TensorValueInfo(LogitsOutput, ElemFloat, "N", _c.OutputWidth);
            var graph = Graph("bnmlp", _nodes, _initializers, [input], [outputInfo]);
            return OnnxProto.Model(graph, Opset, "Microsoft.ML.BatchNormMlp", typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "0");
        }

        private string Linear(string prefix, string x)
        {
            var inputs = model.Tensors.ContainsKey(prefix + ".bias") ? new[] { x, prefix + ".weight", prefix + ".bias" } : [x, prefix + ".weight"];
            return Emit("Gemm", inputs, IntAttribute("transB", 1));
        }

        private string BatchNorm(string prefix, string x) =>
            Emit("BatchNormalization", [x, prefix + ".weight", prefix + ".bias", prefix + ".running_mean", prefix + ".running_var"],
                FloatAttribute("epsilon", _c.BatchNormEpsilon));

        private string Activation(string x) => Emit(_c.Activation == Microsoft.ML.BatchNormMlp.Activation.Tanh ? "Tanh" : "Relu", [x]);

        private string Node(string opType, params string[] inputs) => Emit(opType, inputs);

        private string Emit(string opType, string[] inputs, params byte[][] attributes)
        {
            string name = $"{opType.ToLowerInvariant()}_{_counter++}";
            _nodes.Add(OnnxProto.Node(opType, name, inputs, [name], attributes));
            return name;
        }
    }
}
