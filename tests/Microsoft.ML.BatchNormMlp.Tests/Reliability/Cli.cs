using BatchNormMlp.Cli;

namespace Microsoft.ML.BatchNormMlp.Tests.Reliability;

/// <summary>Runs bnmlp in-process and checks the contract for user errors: exit code 1, one line on stderr, no stack trace.</summary>
internal static class Cli
{
    public static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = BnmlpCli.Run(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs the command line and asserts a one-line user error containing every one of <paramref name="expected"/>; returns the line.</summary>
    public static string AssertUserError(string[] args, params string[] expected)
    {
        var (exit, output, error) = Run(args);
        string shown = $"bnmlp {string.Join(' ', args.Select(a => a.Length > 60 ? a[..60] + "..." : a))}";
        Assert.That(exit, Is.EqualTo(1), $"{shown}\nstdout: {output}\nstderr: {error}");
        Assert.That(output, Is.Empty, shown);
        string[] lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), $"{shown}: stderr is not one line:\n{error}");
        Assert.That(lines[0], Does.StartWith("bnmlp: error: "), shown);
        Assert.That(error, Does.Not.Contain("   at ").And.Not.Contain("internal error"), shown); // no stack trace, not a bug
        foreach (string text in expected)
            Assert.That(lines[0], Does.Contain(text), shown);
        return lines[0].TrimEnd('\r');
    }
}
