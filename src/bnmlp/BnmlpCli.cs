using System.CommandLine;
using System.CommandLine.Invocation;
using BatchNormMlp.Cli.Commands;

namespace BatchNormMlp.Cli;

/// <summary>
/// The bnmlp command line: the root command with every subcommand, and the one place where parse errors and
/// exceptions become exit codes and one-line messages.
/// </summary>
internal static class BnmlpCli
{
    /// <summary>Every command, one file each under Commands/. Add new commands here.</summary>
    private static IEnumerable<Command> Commands() =>
    [
        FeaturizeCommand.Create(),
        TrainCommand.Create(),
        EvalCommand.Create(),
        SampleCommand.Create(),
        FoldCommand.Create(),
        MergeCommand.Create(),
        ExportCommand.Create(),
        BenchCommand.Create(),
    ];

    public static RootCommand CreateRootCommand()
    {
        var root = new RootCommand("bnmlp: character-level MLP language models with BatchNorm and residual streams.");
        root.Options.Add(CommonOptions.Json);
        foreach (Command command in Commands()) root.Subcommands.Add(command);
        return root;
    }

    /// <summary>Parses and runs one command line, writing to the given streams; returns the exit code.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        ParseResult parse;
        try
        {
            parse = CreateRootCommand().Parse(args);
        }
        catch (Exception e)
        {
            return Report(e, stderr);
        }

        // System.CommandLine would print the errors and then the whole help text; a script wants one line.
        if (parse.Action is ParseErrorAction)
        {
            string errors = string.Join(" ", parse.Errors.Select(e => e.Message));
            stderr.WriteLine($"bnmlp: error: {OneLine(errors)} (see bnmlp --help)");
            return ExitCodes.UserError;
        }

        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            return Report(e, stderr);
        }
    }

    /// <summary>Whether an exception is the user's to fix (exit code 1) rather than a bug (exit code 2).</summary>
    public static bool IsUserError(Exception e) =>
        e is UserErrorException or IOException or InvalidDataException or UnauthorizedAccessException or Microsoft.ML.BatchNormMlp.ModelFormatException;

    private static int Report(Exception e, TextWriter stderr)
    {
        if (IsUserError(e))
        {
            stderr.WriteLine($"bnmlp: error: {OneLine(e.Message)}");
            return ExitCodes.UserError;
        }
        stderr.WriteLine($"bnmlp: internal error: {e.GetType().Name}: {OneLine(e.Message)}");
        stderr.WriteLine(e.StackTrace);
        return ExitCodes.InternalError;
    }

    private static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
