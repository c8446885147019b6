using System.Diagnostics;
using System.Text.RegularExpressions;
using BatchNormMlp.Cli;
using Microsoft.ML.BatchNormMlp.Export;
using Microsoft.ML.BatchNormMlp.Featurization;
using Microsoft.ML.BatchNormMlp.Numerics;
using Microsoft.ML.BatchNormMlp.Tests.Featurization;
using Microsoft.ML.BatchNormMlp.Training;

namespace Microsoft.ML.BatchNormMlp.Tests.Training;

/// <summary>
/// <c>bnmlp train</c>: checkpoints, resume and divergence through the command line, and the real kill test: a child
/// <c>bnmlp train --checkpoint-every</c> process is killed with SIGKILL at a random step, a second process resumes from
/// its last checkpoint, and the model file it writes is byte-identical to an uninterrupted run's. CI kills each preset
/// once; <c>BNMLP_KILL_POINTS=N</c> kills at N random steps, <c>BNMLP_KILL_SEED</c> replays a choice:
/// <code>BNMLP_KILL_POINTS=5 dotnet test BatchNormMlp.sln -c Release --filter "FullyQualifiedName~TrainCommandTests" --logger "console;verbosity=detailed"</code>
/// </summary>
public class TrainCommandTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = BnmlpCli.Run(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();

    private static string[] Train(string dir, params string[] more) =>
        ["train", "--data", TestData.NamesPath, "--out", Path.Combine(dir, "model.safetensors"), .. more];

    [Test]
    public void Train_WritesTheModelAndTheCheckpoint()
    {
        using var temp = new TempDirectory();
        var (exit, output, error) = Run(Train(temp.Path, "--steps", "200", "--checkpoint-every", "50", "--progress-every", "100", "--json"));
        Assert.That(exit, Is.EqualTo(0), error);
        string[] lines = Lines(output);
        Assert.That(lines, Does.Contain("preset: bn1, 12097 parameters, 200 steps, learning rate 0.1 then x0.1 at step half-way"));
        Assert.That(lines.Count(l => l.StartsWith("step ", StringComparison.Ordinal)), Is.EqualTo(2));
        var model = ModelFile.Load(Path.Combine(temp.Path, "model.safetensors"));
        Assert.That(model.Vocabulary, Has.Count.EqualTo(27));
        var checkpoint = CheckpointFile.Load(Path.Combine(temp.Path, "model.checkpoint.safetensors"));
        Assert.That(checkpoint.State.CompletedSteps, Is.EqualTo(200));
        Assert.That(checkpoint.State.Network.Select(t => t.Data), Is.EqualTo(model.Tensors.Values), "the last checkpoint holds the final weights");
        Assert.That(lines[^1], Does.StartWith("{\"command\":\"train\",\"preset\":\"bn1\",\"steps\":200,"));
    }

    [Test]
    public void Resume_WithOtherSettings_IsOneLineAndExitCode1()
    {
        using var temp = new TempDirectory();
        string checkpoint = Path.Combine(temp.Path, "run.ckpt");
        Assert.That(Run(Train(temp.Path, "--steps", "100", "--checkpoint-every", "50", "--checkpoint", checkpoint)).Exit, Is.EqualTo(0));

        var (exit, _, error) = Run(Train(temp.Path, "--steps", "100", "--preset", "seed002", "--resume", checkpoint));
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(Lines(error), Is.EqualTo(new[]
        {
            $"bnmlp: error: Cannot resume from '{checkpoint}': the checkpoint has hidden widths [200], the run asks for [100, 100]; " +
            "the checkpoint has hidden bias off, the run asks for on; the checkpoint has output BatchNorm off, the run asks for on.",
        }));

        (exit, _, error) = Run(Train(temp.Path, "--steps", "300", "--seed", "7", "--resume", checkpoint));
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(Lines(error), Is.EqualTo(new[]
        {
            $"bnmlp: error: Cannot resume from '{checkpoint}': the checkpoint has seed 2147483647, the run asks for 7; the checkpoint has steps 100, the run asks for 300.",
        }));
    }

    [Test]
    public void Resume_FromACorruptOrMissingCheckpoint_IsOneLineAndExitCode1()
    {
        using var temp = new TempDirectory();
        string corrupt = temp.Write("bad.ckpt", "not a checkpoint at all");
        var (exit, _, error) = Run(Train(temp.Path, "--steps", "10", "--resume", corrupt));
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(Lines(error), Has.Length.EqualTo(1));
        Assert.That(error, Does.StartWith($"bnmlp: error: '{corrupt}' is not a valid safetensors file: "));

        (exit, _, error) = Run(Train(temp.Path, "--steps", "10", "--resume", Path.Combine(temp.Path, "absent.ckpt")));
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(Lines(error), Has.Length.EqualTo(1));
        Assert.That(error, Does.StartWith("bnmlp: error: ").And.Contain("absent.ckpt"));
        Assert.That(File.Exists(Path.Combine(temp.Path, "model.safetensors")), Is.False);
    }

    // bn1 at 1e8 overflows its BatchNorm; mnist1d-res (ReLU residual blocks, no BatchNorm) blows up at 100.
    [TestCase("bn1", "1e8", "0.1", "")]
    [TestCase("mnist1d-res", "100", "0.05", " or a preset with BatchNorm (mnist1d-res-bn)")]
    public void Divergence_IsOneLineNamingStepLayerAndRemedy_AndKeepsTheLastGoodCheckpoint(string preset, string rate, string presetRate, string batchNormHint)
    {
        using var temp = new TempDirectory();
        string checkpoint = Path.Combine(temp.Path, "run.ckpt");
        string data = preset.StartsWith("mnist1d", StringComparison.Ordinal) ? Path.GetDirectoryName(Path.GetDirectoryName(TestData.Require(DataPaths.Mnist1dTrain)))! : TestData.NamesPath;
        // The huge rate from the start (a resume must keep the rate), and a checkpoint after every good step.
        var (exit, output, error) = Run("train", "--data", data, "--out", Path.Combine(temp.Path, "model.safetensors"), "--preset", preset,
            "--steps", "50", "--learning-rate", rate, "--checkpoint-every", "1", "--checkpoint", checkpoint);
        Assert.That(exit, Is.EqualTo(1), output);
        Assert.That(Lines(error), Has.Length.EqualTo(1));
        // The suggestion is the preset's own rate: a tenth of the one that blew up would still be far too high.
        var match = Regex.Match(error, @"^bnmlp: error: Training diverged at step (\d+): (the loss is \S+\. The first layer whose output went non-finite is '[^']+'|its loss was \S+, but its update left tensor '[^']+' non-finite)\. " +
            $@"Try --learning-rate {Regex.Escape(presetRate)}{Regex.Escape(batchNormHint)}\.( The last good checkpoint, at step (\d+), is '{Regex.Escape(checkpoint)}'\.)?\r?\n$");
        Assert.That(match.Success, Is.True, error);
        int step = int.Parse(match.Groups[1].Value);
        if (match.Groups[4].Success)
        {
            int saved = int.Parse(match.Groups[4].Value);
            Assert.That(saved, Is.LessThanOrEqualTo(step));
            var loaded = CheckpointFile.Load(checkpoint);   // whole and finite
            Assert.That(loaded.State.CompletedSteps, Is.EqualTo(saved));
        }
        else Assert.That(File.Exists(checkpoint), Is.False, "no step finished cleanly, so no checkpoint");
        Assert.That(File.Exists(Path.Combine(temp.Path, "model.safetensors")), Is.False);
    }

    [TestCase("--learning-rate", "-1", "--learning-rate must be a number above 0 and at most 1E+30; got \"-1\".")]
    [TestCase("--preset", "bn2", "--preset must be one of bn1, plain1, seed002, mlp3, deep50, deep50-res, mnist1d-res, mnist1d-res-bn, quality, quality-c3, deep50res; got \"bn2\".")]
    [TestCase("--checkpoint-every", "x", "--checkpoint-every must be an integer from 0 to 2147483647; got \"x\".")]
    public void BadOptions_AreOneLineAndExitCode1(string option, string value, string message)
    {
        using var temp = new TempDirectory();
        var (exit, _, error) = Run(Train(temp.Path, option, value));
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(Lines(error), Is.EqualTo(new[] { $"bnmlp: error: {message} (see bnmlp --help)" }));
    }

    // bn1 on names.txt: sampling with replacement, plain SGD, the step decay at half-way (step 1000) inside the run.
    // mnist1d-res-bn: shuffled epochs of 20 batches, SGD with momentum, BatchNorm running statistics; kills land mid-epoch.
    // A checkpoint after every step: kills often land inside a write, which must leave the previous checkpoint whole.
    [TestCase("bn1", 2000, 100, 10)]
    [TestCase("mnist1d-res-bn", 60, 5, 1)]
    [TestCase("bn1", 400, 1, 1)]
    public void KilledWithSigkill_AndResumed_EndsByteIdenticalToAnUninterruptedRun(string preset, int steps, int every, int progressEvery)
    {
        using var temp = new TempDirectory();
        string data = preset.StartsWith("mnist1d", StringComparison.Ordinal) ? Path.GetDirectoryName(Path.GetDirectoryName(TestData.Require(DataPaths.Mnist1dTrain)))! : TestData.NamesPath;
        string[] Args(string name, params string[] more) =>
            ["train", "--data", data, "--preset", preset, "--steps", $"{steps}", "--out", Path.Combine(temp.Path, name), "--progress-every", $"{progressEvery}", .. more];

        var clock = Stopwatch.StartNew();
        byte[] whole = Uninterrupted(preset, steps, data);
        TestContext.Out.WriteLine($"{preset}: uninterrupted reference of {steps} steps (in-process, computed once per preset): ready after {clock.Elapsed.TotalSeconds:F1} s");

        int points = int.TryParse(Environment.GetEnvironmentVariable("BNMLP_KILL_POINTS"), out int p) && p > 0 ? p : 1;
        ulong seed = ulong.TryParse(Environment.GetEnvironmentVariable("BNMLP_KILL_SEED"), out ulong s) ? s : (ulong)Environment.TickCount64;
        var rng = new Rng(seed);
        for (int i = 0; i < points; i++)
        {
            // Kill once the child reports a step in the first half of the run (after its first checkpoint), so that a
            // slow test host still kills it well before it could finish.
            int target = every + rng.NextInt(steps / 2 - every);
            string model = $"killed{i}.safetensors", checkpoint = Path.Combine(temp.Path, $"killed{i}.ckpt");
            clock.Restart();
            // With a checkpoint per step (a few ms each, mostly the flush to disk) a random delay lands some kills inside a write.
            int delay = every == 1 ? rng.NextInt(25) : 0;
            int reached = RunAndKill(Args(model, "--checkpoint-every", $"{every}", "--checkpoint", checkpoint), target, delay);
            Assert.That(File.Exists(Path.Combine(temp.Path, model)), Is.False, "the killed run never finished");
            double killedAfter = clock.Elapsed.TotalSeconds;
            int leftovers = Directory.GetFiles(temp.Path, "*.tmp").Length;   // a kill inside a write leaves its temporary file

            clock.Restart();
            var (code, output, stderr) = RunChild(Args(model, "--checkpoint-every", $"{every}", "--resume", checkpoint));
            Assert.That(code, Is.EqualTo(0), stderr);
            var resumedAt = Regex.Match(output, $@"^resumed: .* at step (\d+)/{steps}\r?$", RegexOptions.Multiline);
            Assert.That(resumedAt.Success, Is.True, output);
            int from = int.Parse(resumedAt.Groups[1].Value);
            Assert.That(from % every, Is.Zero);
            Assert.That(from, Is.GreaterThanOrEqualTo(reached / every * every), "a checkpoint is on disk before its step is reported");
            Assert.That(from, Is.LessThan(steps), "the killed run never finished");
            Assert.That(File.ReadAllBytes(Path.Combine(temp.Path, model)), Is.EqualTo(whole), $"kill point {i}: killed after step {reached}, resumed from {from}");
            Assert.That(Directory.GetFiles(temp.Path, "*.tmp"), Is.Empty, "no temporary checkpoint left behind");
            TestContext.Out.WriteLine($"{preset}: seed {seed}, kill point {i}: SIGKILL after step {reached} (target {target}) at {killedAfter:F1} s; " +
                $"{(leftovers > 0 ? "killed inside a checkpoint write; " : "")}resumed from step {from} and finished in {clock.Elapsed.TotalSeconds:F1} s; model byte-identical");
        }
    }

    // Ctrl+C (SIGINT) and SIGTERM (kill, a scheduler's stop) both stop between two steps and save the step reached.
    [TestCase("SIGINT", 2)]
    [TestCase("SIGTERM", 15)]
    public void Interrupted_SavesItsStep_AndResumesByteIdentical(string name, int signal)
    {
        using var temp = new TempDirectory();
        string checkpoint = Path.Combine(temp.Path, "run.ckpt"), model = Path.Combine(temp.Path, "model.safetensors");
        string[] args = ["train", "--data", TestData.NamesPath, "--steps", "2000", "--out", model, "--progress-every", "10", "--checkpoint-every", "1000", "--checkpoint", checkpoint];
        byte[] whole = Uninterrupted("bn1", 2000, TestData.NamesPath);

        // A test host started as a shell's background job ignores SIGINT, and so would its children (seen: this test
        // failing under `dotnet test ... &`); the child must start with the default disposition, as a terminal gives it.
        var start = ChildStart(args);
        if (signal == 2 && IgnoresSigint())
        {
            start.ArgumentList.Insert(0, start.FileName);
            start.ArgumentList.Insert(0, "--default-signal=INT");
            start.FileName = "/usr/bin/env";
        }
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string? line, last = null;
        while ((line = process.StandardOutput.ReadLine()) is not null && !line.StartsWith("step 300/", StringComparison.Ordinal)) last = line;
        if (line is null)
        {
            process.WaitForExit();
            Assert.Fail($"The child ended (exit code {process.ExitCode}) before step 300; its last line: {last}; stderr: {stderr.Result}");
        }
        Assert.That(SendSignal(process.Id, signal), Is.Zero, $"{name} sent");
        string rest = process.StandardOutput.ReadToEnd();
        process.WaitForExit();

        var interrupted = Regex.Match(stderr.Result, $@"^bnmlp: error: Interrupted after step (\d+)/2000; continue with --resume {Regex.Escape(checkpoint)}\.\r?\n$");
        Assert.That(interrupted.Success, Is.True, $"exit code {process.ExitCode}; stderr: {stderr.Result}; stdout's last lines: {string.Join(" | ", Lines(rest).TakeLast(3))}");
        Assert.That(process.ExitCode, Is.EqualTo(1));
        int step = int.Parse(interrupted.Groups[1].Value);
        Assert.That(step, Is.GreaterThanOrEqualTo(300).And.LessThan(2000));
        Assert.That(CheckpointFile.Load(checkpoint).State.CompletedSteps, Is.EqualTo(step), "saved where it stopped, not at the last multiple of 1000");

        var (exit, output, error) = RunChild([.. args, "--resume", checkpoint]);
        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain($"resumed: {checkpoint} at step {step}/2000"));
        Assert.That(File.ReadAllBytes(model), Is.EqualTo(whole));
        TestContext.Out.WriteLine($"bn1: {name} after step 300, saved and stopped at step {step}; resumed, model byte-identical");
    }

    // Whether this process ignores SIGINT (bit 2 of the SigIgn mask in /proc/self/status), which children inherit.
    private static bool IgnoresSigint()
    {
        if (!File.Exists("/proc/self/status")) return false;
        string? mask = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return mask is not null && (Convert.ToUInt64(mask["SigIgn:".Length..].Trim(), 16) & (1UL << (2 - 1))) != 0;
    }

    [Test]
    public void Ensemble_MembersReportingAtOnce_WriteWholeLines_ToAWriterThatIsNotThreadSafe()
    {
        // Members train on threads of their own and report progress as they go. A StringWriter (what in-process callers
        // and these tests pass) tears when two threads write at once: seen in CI as "Destination is too short".
        using var temp = new TempDirectory();
        var stdout = new OneWriterAtATime();
        var stderr = new StringWriter();
        int exit = BnmlpCli.Run(Train(temp.Path, "--steps", "60", "--ensemble", "2", "--progress-every", "2", "--samples", "0"), stdout, stderr);
        Assert.That(exit, Is.EqualTo(0), stderr.ToString());
        Assert.That(stdout.Overlaps, Is.Zero, "two threads were inside the writer at once");
        string[] lines = Lines(stdout.ToString());
        for (int m = 1; m <= 2; m++)
            Assert.That(lines.Count(l => Regex.IsMatch(l, $@"^member {m}/2  step \d+/60  loss ")), Is.EqualTo(30), $"member {m}'s progress lines, whole");
    }

    // A StringWriter that counts the times a second thread entered it while another was inside (each write lingers a
    // little, so that unserialized writers from two threads overlap on any machine with two cores).
    private sealed class OneWriterAtATime : StringWriter
    {
        private int _owner;   // the managed thread id inside, 0: none
        public int Overlaps;

        public override void Write(char value) => Enter(() => base.Write(value));
        public override void Write(string? value) => Enter(() => base.Write(value));
        public override void WriteLine(string? value) => Enter(() => base.WriteLine(value));

        private void Enter(Action write)
        {
            int me = Environment.CurrentManagedThreadId;
            if (Volatile.Read(ref _owner) == me) { write(); return; }   // WriteLine writing its newline
            if (Interlocked.CompareExchange(ref _owner, me, 0) != 0) Interlocked.Increment(ref Overlaps);
            try { Thread.SpinWait(20_000); write(); }
            finally { Interlocked.CompareExchange(ref _owner, 0, me); }
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    private static readonly Dictionary<string, byte[]> WholeRuns = [];

    // The model file of an uninterrupted in-process run, computed once per preset and step count.
    private static byte[] Uninterrupted(string preset, int steps, string data)
    {
        lock (WholeRuns)
        {
            string key = $"{preset}/{steps}";
            if (WholeRuns.TryGetValue(key, out var bytes)) return bytes;
            using var temp = new TempDirectory();
            string path = Path.Combine(temp.Path, "whole.safetensors");
            var (exit, _, error) = Run("train", "--data", data, "--preset", preset, "--steps", $"{steps}", "--out", path, "--progress-every", $"{steps}");
            Assert.That(exit, Is.EqualTo(0), error);
            return WholeRuns[key] = File.ReadAllBytes(path);
        }
    }

    private static ProcessStartInfo ChildStart(IEnumerable<string> args)
    {
        string dir = TestContext.CurrentContext.TestDirectory;
        string apphost = Path.Combine(dir, OperatingSystem.IsWindows() ? "bnmlp.exe" : "bnmlp");
        var start = File.Exists(apphost)
            ? new ProcessStartInfo(apphost)
            : new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet") { ArgumentList = { Path.Combine(dir, "bnmlp.dll") } };
        foreach (string a in args) start.ArgumentList.Add(a);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        return start;
    }

    private static (int Exit, string Out, string Err) RunChild(IEnumerable<string> args)
    {
        using var process = Process.Start(ChildStart(args))!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout, stderr.Result);
    }

    // Starts a training child, reads its progress lines and kills it (SIGKILL on Unix) as soon as it reports a step
    // at or after `target` (after an optional delay); returns the step it had reported.
    private static int RunAndKill(IEnumerable<string> args, int target, int delayMilliseconds)
    {
        using var process = Process.Start(ChildStart(args))!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stepLine = new Regex(@"^step (\d+)/");
        string? line;
        while ((line = process.StandardOutput.ReadLine()) is not null)
        {
            var m = stepLine.Match(line);
            if (m.Success && int.Parse(m.Groups[1].Value) >= target)
            {
                if (delayMilliseconds > 0) Thread.Sleep(delayMilliseconds);
                process.Kill();
                process.WaitForExit();
                Assert.That(process.ExitCode, Is.Not.Zero, "killed, not finished");
                return int.Parse(m.Groups[1].Value);
            }
        }
        process.WaitForExit();
        Assert.Fail($"The child ended (exit code {process.ExitCode}) before step {target}: {stderr.Result}");
        return -1;
    }
}
