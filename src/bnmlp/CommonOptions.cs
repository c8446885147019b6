using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace BatchNormMlp.Cli;

/// <summary>Options shared by several commands, so that every command spells and checks them the same way.</summary>
internal static class CommonOptions
{
    /// <summary>On every command (recursive): print one JSON object with the command's figures as the last line of stdout.</summary>
    public static readonly Option<bool> Json = new("--json")
    {
        Description = "Also print the command's figures as one JSON object on the last line of standard output.",
        Recursive = true,
    };

    /// <summary>The names corpus; when absent it is searched for (data/names.txt, then ../shared/data/names.txt).</summary>
    public static Option<string?> Data() => new("--data")
    {
        Description = "The names file (one name per line, UTF-8). Default: data/names.txt, else ../shared/data/names.txt.",
        HelpName = "PATH",
    };

    public static Option<long> Seed(long defaultValue, string description) => new("--seed")
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        HelpName = "N",
    };

    /// <summary>An integer option that must lie in [min, max]; anything else is a parse error (exit code 1).</summary>
    public static Option<int> Int(string name, int defaultValue, int min, int max, string description) => new(name)
    {
        Description = $"{description} ({min} to {max}).",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => ParseInt(result, name, min, max),
        HelpName = "N",
    };

    // A custom parser rather than a validator: it sees the raw token, so "abc" and "0" get the same kind of message.
    private static int ParseInt(ArgumentResult result, string name, int min, int max)
    {
        string token = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (!int.TryParse(token, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < min || value > max)
        {
            result.AddError($"{name} must be an integer from {min} to {max}; got \"{token}\".");
            return min;
        }
        return value;
    }
}
