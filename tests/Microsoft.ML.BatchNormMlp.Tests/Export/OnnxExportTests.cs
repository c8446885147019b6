using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.BatchNormMlp.Export;
using Microsoft.ML.BatchNormMlp.Export.Onnx;

namespace Microsoft.ML.BatchNormMlp.Tests.Export;

/// <summary>
/// Runs exported models in a real ONNX Runtime (onnxruntime-node, via tests/onnx-check/run.js) and compares its
/// logits with the C# forward pass. The package is installed on first use (npm ci, as .ci/run also does):
/// <c>cd tests/onnx-check &amp;&amp; ONNXRUNTIME_NODE_INSTALL=skip npm ci</c>.
/// </summary>
public class OnnxExportTests
{
    private string _dir = null!;

    [SetUp] public void SetUp() => _dir = ExportTestModels.TempDirectory();
    [TearDown] public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static readonly object[] Cases = ExportTestModels.Names
        .SelectMany(name => new[] { new object[] { name, false }, new object[] { name, true } }).ToArray();

    [TestCaseSource(nameof(Cases))]
    public void OnnxRuntime_MatchesTheCSharpLogits_ForManyRowsAndForOne(string name, bool folded)
    {
        var model = ExportTestModels.Random(name, seed: 33);
        if (folded) model = BatchNormFolding.Fold(model);
        string onnx = Path.Combine(_dir, "model.onnx");
        OnnxExport.Save(onnx, model);

        var c = model.Config;
        foreach (int rows in new[] { 700, 1 })
        {
            int[]? ids = c.IsDense ? null : ExportTestModels.Contexts(c, rows, (ulong)rows);
            float[]? x = c.IsDense ? ExportTestModels.Features(c, rows, (ulong)rows) : null;
            var expected = ExportTestModels.Logits(model, ids, x, rows);

            var (dims, actual) = RunOnnxRuntime(onnx, ids, x, rows, c.IsDense ? c.DenseInputWidth : c.ContextLength);

            Assert.That(dims, Is.EqualTo(new long[] { rows, c.OutputWidth }));
            double diff = ExportTestModels.MaxAbsDifference(expected, actual);
            TestContext.Out.WriteLine($"{name} folded={folded} rows={rows}: max |ORT - C#| = {diff:E2}");
            Assert.That(diff, Is.LessThanOrEqualTo(1e-4), $"rows={rows}");
        }
    }

    [Test]
    public void Export_IsDeterministic_AndDeclaresIrVersion8AndOpset13()
    {
        var model = ExportTestModels.Random("pre-bn-residual");
        var first = OnnxExport.ToBytes(model);
        Assert.That(OnnxExport.ToBytes(model), Is.EqualTo(first));
        // ModelProto field 1 (ir_version, varint) comes first: tag 0x08, value 8.
        Assert.That(first[..2], Is.EqualTo(new byte[] { 0x08, 0x08 }));
        // OperatorSetIdProto {domain "", version 13} as the last field 8 of the model.
        Assert.That(first[^6..], Is.EqualTo(new byte[] { 0x42, 0x04, 0x0a, 0x00, 0x10, 0x0d }));
    }

    [Test]
    public void Export_RefusesAModelMissingATensor()
    {
        var model = ExportTestModels.Random("post-bn-residual");
        var broken = model with { Tensors = model.Tensors.Where(p => p.Key != "hidden.1.norm.running_mean").ToDictionary() };
        var ex = Assert.Throws<ArgumentException>(() => OnnxExport.ToBytes(broken));
        Assert.That(ex!.Message, Does.Contain("tensor 'hidden.1.norm.running_mean' is missing"));
    }

    private (long[] Dims, float[] Logits) RunOnnxRuntime(string onnx, int[]? ids, float[]? features, int rows, int width)
    {
        string job = Path.Combine(_dir, "job.json"), output = Path.Combine(_dir, "logits.bin");
        File.WriteAllText(job, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["model"] = onnx,
            ["input"] = ids is null ? OnnxExport.FeaturesInput : OnnxExport.IdsInput,
            ["dims"] = new[] { rows, width },
            ["data"] = ids is null ? features! : ids,
            ["output"] = output,
        }));

        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = HarnessDirectory };
        start.ArgumentList.Add(Path.Combine(HarnessDirectory, "run.js"));
        start.ArgumentList.Add(job);
        Process process;
        try { process = Process.Start(start)!; }
        catch (System.ComponentModel.Win32Exception ex) { Assert.Fail($"Cannot start `node` (Node.js must be on PATH for the ONNX Runtime tests): {ex.Message}"); throw; }
        using var _ = process;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.That(process.WaitForExit(60_000), Is.True, "node run.js did not finish within 60 s");
        Assert.That(process.ExitCode, Is.Zero, $"node run.js failed: {stderr.Result}");

        var dims = JsonDocument.Parse(stdout.Result).RootElement.GetProperty("dims").EnumerateArray().Select(d => d.GetInt64()).ToArray();
        var bytes = File.ReadAllBytes(output);
        var logits = new float[bytes.Length / sizeof(float)];
        Buffer.BlockCopy(bytes, 0, logits, 0, bytes.Length);
        return (dims, logits);
    }

    private static readonly Lock InstallLock = new();

    /// <summary>
    /// tests/onnx-check, found by walking up from the test binaries. ONNX Runtime is installed there on first use
    /// (so the README's one test command works on a fresh clone); a failed install fails the test with npm's output.
    /// </summary>
    private static string HarnessDirectory
    {
        get
        {
            for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "tests", "onnx-check");
                if (File.Exists(Path.Combine(candidate, "run.js")))
                {
                    lock (InstallLock)
                        if (!Directory.Exists(Path.Combine(candidate, "node_modules", "onnxruntime-node")))
                            InstallOnnxRuntime(candidate);
                    return candidate;
                }
            }
            Assert.Fail("tests/onnx-check/run.js not found above the test directory.");
            return null!;
        }
    }

    private static void InstallOnnxRuntime(string harness)
    {
        // Its install script would fetch a GPU add-on and fail; the CPU binaries ship in the package itself.
        var start = new ProcessStartInfo("npm", "ci --no-audit --no-fund")
        {
            WorkingDirectory = harness,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ONNXRUNTIME_NODE_INSTALL"] = "skip";
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Fail($"ONNX Runtime is not installed and npm could not be started ({e.Message}): install Node.js, then run `cd {harness} && ONNXRUNTIME_NODE_INSTALL=skip npm ci`.");
            return;
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            if (process.ExitCode != 0)
                Assert.Fail($"`npm ci` in {harness} failed with exit code {process.ExitCode}: {stdout.Result}{stderr.Result}");
        }
    }
}
