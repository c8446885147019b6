using Microsoft.ML.BatchNormMlp.IO;
using Microsoft.ML.BatchNormMlp.Model;
using static Microsoft.ML.BatchNormMlp.Export.Onnx.OnnxProto;

namespace Microsoft.ML.BatchNormMlp.Export.Onnx;

/// <summary>
/// Exports a model (folded, or unfolded in evaluation mode) as an ONNX graph (IR version 8, opset 13) that
/// ONNX Runtime and the onnx checker accept. Input: int64 <c>ids</c> [N, context] (or float <c>features</c>
/// [N, width] for dense models) with a dynamic batch axis N; output: float <c>logits</c> [N, OutputWidth].
/// <see cref="OnnxExportOptions"/> add a key-value input (uint32 <c>ids</c>; Sub and Cast before the Gather) and a
/// Softmax output <c>probabilities</c>.
/// Nodes: Gather + Reshape (embedding), Gemm(transB=1) per Linear, BatchNormalization (unfolded) or Mul + Add
/// (folded pre-activation affine), Tanh/Relu, Add (residual). Initializers carry the layout's tensor names.
/// </summary>
internal static class OnnxExport
{
    public const int Opset = 13;
    public const string IdsInput = "ids", FeaturesInput = "features", LogitsOutput = "logits", ProbabilitiesOutput = "probabilities";

    /// <exception cref="ArgumentException">The model state is invalid (config, vocabulary, a tensor missing, misshapen or not finite); the message names it.</exception>
    public static byte[] ToBytes(ModelState model) => ToBytes(model, OnnxExportOptions.Default);

    /// <exception cref="ArgumentException">The model state is invalid (config, vocabulary, a tensor missing, misshapen or not finite), or <see cref="OnnxExportOptions.KeyInput"/> is asked of a dense-input model; the message names it.</exception>
    public static byte[] ToBytes(ModelState model, OnnxExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ModelValidation.Check(model, problem => new ArgumentException($"Cannot export to ONNX: {problem}.", nameof(model)));
        if (options.KeyInput && model.Config.IsDense)
            throw new ArgumentException("Cannot export to ONNX with key input: the model reads dense features, not symbol ids.", nameof(options));
        var builder = new GraphBuilder(model, options);
        return builder.Build();
    }

    /// <summary>Writes the ONNX model atomically (temp file in the same directory, then rename).</summary>
    public static void Save(string path, ModelState model) => Save(path, model, OnnxExportOptions.Default);

    /// <summary>Writes the ONNX model with the given graph options atomically (temp file in the same directory, then rename).</summary>
    public static void Save(string path, ModelState model, OnnxExportOptions options)
    {
        AtomicFile.WriteAllBytes(path, ToBytes(model, options));
    }

    private sealed class GraphBuilder(ModelState model, OnnxExportOptions options)
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
                string ids = IdsInput;
                if (options.KeyInput)
                {
                    // ML.NET keys are 1-based (0 is "missing"); the embedding rows are the 0-based vocabulary ids. The
                    // subtraction is done in uint32 so that a missing key wraps to 2^32 - 1, which Gather refuses as
                    // out of range; in int64 it would be -1, which Gather reads as the last symbol.
                    input = TensorValueInfo(IdsInput, ElemUInt32, "N", _c.ContextLength);
                    _initializers.Add(UInt32Tensor("ids.key_offset", [], [1]));
                    ids = Emit("Cast", [Node("Sub", IdsInput, "ids.key_offset")], IntAttribute("to", ElemInt64));
                }
                else
                {
                    input = TensorValueInfo(IdsInput, ElemInt64, "N", _c.ContextLength);
                }
                var gathered = Node("Gather", "embedding.weight", ids); // [N, ctx, E]
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
                    y = Activation(y, output);
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
                    y = Linear(p + ".linear", Activation(z, width));
                }
                h = _c.Residual && i > 0 && output == width ? Node("Add", h, y) : y;
                width = output;
            }

            string logits = Linear("output", h);
            if (!model.Folded && _c.OutputBatchNorm) logits = BatchNorm("output_norm", logits);
            _nodes.Add(OnnxProto.Node("Identity", "logits", [logits], [LogitsOutput]));
            var outputs = new List<byte[]> { TensorValueInfo(LogitsOutput, ElemFloat, "N", _c.OutputWidth) };
            if (options.Probabilities)
            {
                _nodes.Add(OnnxProto.Node("Softmax", "probabilities", [logits], [ProbabilitiesOutput], IntAttribute("axis", 1)));
                outputs.Add(TensorValueInfo(ProbabilitiesOutput, ElemFloat, "N", _c.OutputWidth));
            }

            var graph = Graph("bnmlp", _nodes, _initializers, [input], outputs);
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

        // x is [N, width]. Activation groups: Split the columns into equal slices, apply each group's op, Concat them back.
        private string Activation(string x, int width)
        {
            static string Op(Activation a) => a == Microsoft.ML.BatchNormMlp.Activation.Tanh ? "Tanh" : "Relu";
            if (_c.ActivationGroups is not { } groups) return Emit(Op(_c.Activation), [x]);
            int g = groups.Count;
            string sizes = $"split_{_counter++}.sizes";
            _initializers.Add(Int64Tensor(sizes, [g], Enumerable.Repeat((long)(width / g), g).ToArray()));
            string split = $"split_{_counter++}";
            var slices = Enumerable.Range(0, g).Select(i => $"{split}.{i}").ToArray();
            _nodes.Add(OnnxProto.Node("Split", split, [x, sizes], slices, IntAttribute("axis", 1)));
            return Emit("Concat", slices.Select((slice, i) => Emit(Op(groups[i]), [slice])).ToArray(), IntAttribute("axis", 1));
        }

        private string Node(string opType, params string[] inputs) => Emit(opType, inputs);

        private string Emit(string opType, string[] inputs, params byte[][] attributes)
        {
            string name = $"{opType.ToLowerInvariant()}_{_counter++}";
            _nodes.Add(OnnxProto.Node(opType, name, inputs, [name], attributes));
            return name;
        }
    }
}
