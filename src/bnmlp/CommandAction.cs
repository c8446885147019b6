using System.CommandLine;
using System.Text.Json.Nodes;

namespace BatchNormMlp.Cli;

/// <summary>Gives every command the same plumbing: its output, its figures as JSON, and exit code 0 when it returns.</summary>
internal static class CommandAction
{
    /// <summary>
    /// Sets <paramref name="command"/>'s action to <paramref name="body"/>, which writes its report to the output and
    /// adds its figures to the JSON object it is given (already holding <c>"command"</c>); that object is printed as
    /// the last line with --json. Exceptions propagate to <see cref="BnmlpCli.Run"/>, which turns them into exit codes.
    /// </summary>
    public static void Set(Command command, Action<ParseResult, CommandOutput, JsonObject> body)
    {
        command.SetAction(parse =>
        {
            CommandOutput output = CommandOutput.For(parse);
            var figures = new JsonObject { ["command"] = command.Name };
            body(parse, output, figures);
            output.Figures(figures);
            return ExitCodes.Success;
        });
    }
}
