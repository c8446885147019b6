using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace BatchNormMlp.Cli;

/// <summary>
/// Every option a command takes is built here, so that every command spells and checks its options the same way:
/// a bad value is a parse error (exit code 1, one line on stderr naming the option), never an exception from deep
/// inside a command. Each option records values it must refuse; a test feeds them to every registered command.
/// </summary>
internal static class CommonOptions
{
    private const int MaxPathLength = 4096; // Linux's PATH_MAX; longer text is not a path someone meant

    private static readonly ConditionalWeakTable<Option, string[]> Refused = [];

    /// <summary>On every command (recursive): print one JSON object with the command's figures as the last line of stdout.</summary>
    public static readonly Option<bool> Json = new("--json")
    {
        Description = "Also print the command's figures as one JSON object on the last line of standard output.",
        Recursive = true,
    };

    /// <summary>Values that <paramref name="option"/> must refuse, or null when it was not built here (a flag, or a bug: see the test).</summary>
    public static IReadOnlyList<string>? RefusedValues(Option option) => Refused.TryGetValue(option, out var values) ? values : null;

    /// <summary>A file or directory path; empty text and NUL characters are refused (they would otherwise mean "search the defaults" or crash the path API).</summary>
    public static Option<string?> Path(string name, string description)
    {
        var option = new Option<string?>(name) { Description = description, HelpName = "PATH" };
        option.Validators.Add(result =>
        {
            if (PathError(name, result.Tokens.Count > 0 ? result.Tokens[^1].Value : "") is string error) result.AddError(error);
        });
        return Register(option, RefusedPaths);
    }

    private static readonly string[] RefusedPaths = ["", " ", "a\0b", "x\ny", "--json", new string('p', MaxPathLength + 1)];

    // Why value is not a path someone meant, or null.
    private static string? PathError(string name, string value) =>
        string.IsNullOrWhiteSpace(value) ? $"{name} needs a path; got \"{value}\"."
        : value.Any(char.IsControl) ? $"{name} holds a control character; got \"{Printable(value)}\"."
        : value.StartsWith("--", StringComparison.Ordinal) ? $"{name} needs a path; got the option \"{Printable(value)}\" (write ./{Printable(value)} for a file of that name)."
        : value.Length > MaxPathLength ? $"{name} is {value.Length} characters long; a path has at most {MaxPathLength}."
        : null;

    /// <summary>Several paths (required), each checked like <see cref="Path"/>: <c>NAME A NAME B</c> or <c>NAME A B</c>.</summary>
    public static Option<string[]> Paths(string name, string description)
    {
        var option = new Option<string[]>(name) { Description = description, HelpName = "PATH", Required = true, AllowMultipleArgumentsPerToken = true };
        option.Validators.Add(result =>
        {
            if (result.Tokens.Select(t => PathError(name, t.Value)).FirstOrDefault(e => e is not null) is string error) result.AddError(error);
        });
        return Register(option, RefusedPaths);
    }

    /// <summary>The names corpus; when absent it is searched for (data/names.txt, then ../shared/data/names.txt).</summary>
    public static Option<string?> Data() =>
        Path("--data", "The names file (one name per line, UTF-8). Default: data/names.txt, else ../shared/data/names.txt.");

    /// <summary>The model file a command reads (required).</summary>
    public static Option<string?> Model()
    {
        Option<string?> option = Path("--model", "The model file (safetensors, bnmlp/1) written by bnmlp train, fold or CharacterModel.Save.");
        option.Required = true;
        return option;
    }

    /// <summary>A file the command writes (required), atomically.</summary>
    public static Option<string?> Out(string description)
    {
        Option<string?> option = Path("--out", description);
        option.Required = true;
        return option;
    }

    /// <summary>A random seed: any 64-bit integer.</summary>
    public static Option<long> Seed(long defaultValue, string description) => Long("--seed", defaultValue, long.MinValue, long.MaxValue, description);

    /// <summary>An integer option that must lie in [min, max]; anything else is a parse error (exit code 1).</summary>
    public static Option<int> Int(string name, int defaultValue, int min, int max, string description)
    {
        var option = new Option<int>(name)
        {
            Description = $"{description} ({min} to {max}).",
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result => (int)ParseInteger(result, name, min, max),
            HelpName = "N",
        };
        return Register(option, OutOfRange(min, max));
    }

    /// <summary>A 64-bit integer option that must lie in [min, max].</summary>
    public static Option<long> Long(string name, long defaultValue, long min, long max, string description)
    {
        var option = new Option<long>(name)
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result => ParseInteger(result, name, min, max),
            HelpName = "N",
        };
        return Register(option, OutOfRange(min, max));
    }

    /// <summary>One printable character (a Unicode scalar value that is not a control character).</summary>
    public static Option<string> Symbol(string name, string defaultValue, string description)
    {
        var option = new Option<string>(name)
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            HelpName = "SYMBOL",
        };
        option.Validators.Add(result =>
        {
            string value = result.GetValueOrDefault<string>() ?? "";
            if (Rune.DecodeFromUtf16(value, out Rune rune, out int consumed) != System.Buffers.OperationStatus.Done
                || consumed != value.Length || Rune.IsControl(rune))
                result.AddError($"{name} must be exactly one printable character; got \"{Printable(value)}\".");
        });
        return Register(option, ["", "ab", "\t", "\ud800", "e\u0301"]);
    }

    /// <summary>One of a fixed set of names (case-sensitive).</summary>
    public static Option<string> Choice(string name, string defaultValue, IReadOnlyList<string> choices, string description)
    {
        var option = new Option<string>(name)
        {
            Description = $"{description} ({string.Join(", ", choices)}).",
            DefaultValueFactory = _ => defaultValue,
            HelpName = "NAME",
        };
        option.Validators.Add(result =>
        {
            string value = result.GetValueOrDefault<string>() ?? "";
            if (!choices.Contains(value, StringComparer.Ordinal))
                result.AddError($"{name} must be one of {string.Join(", ", choices)}; got \"{Printable(value)}\".");
        });
        return Register(option, ["", "nope", choices[0].ToUpperInvariant(), " " + choices[0], "--json"]);
    }

    /// <summary>An optional finite number in (0, max]; absent: null.</summary>
    public static Option<double?> PositiveNumber(string name, double max, string description)
    {
        var option = new Option<double?>(name)
        {
            Description = $"{description} (above 0, at most {max.ToString(CultureInfo.InvariantCulture)}).",
            HelpName = "X",
            CustomParser = result =>
            {
                string token = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
                if (!double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value) || value <= 0 || value > max)
                {
                    result.AddError($"{name} must be a number above 0 and at most {max.ToString(CultureInfo.InvariantCulture)}; got \"{Printable(token)}\".");
                    return null;
                }
                return value;
            },
        };
        return Register(option, ["abc", "", "0", "-1", "NaN", "Infinity", "1e400", (max * 10).ToString(CultureInfo.InvariantCulture), "0x10"]);
    }

    /// <summary>An optional finite number in [min, max]; absent: null.</summary>
    public static Option<double?> Number(string name, double min, double max, string description)
    {
        string range = $"from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}";
        var option = new Option<double?>(name)
        {
            Description = $"{description} ({range}).",
            HelpName = "X",
            CustomParser = result =>
            {
                string token = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
                if (!double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value) || value < min || value > max)
                {
                    result.AddError($"{name} must be a number {range}; got \"{Printable(token)}\".");
                    return null;
                }
                return value;
            },
        };
        return Register(option, ["abc", "", "NaN", "Infinity", "1e400", "0x10",
            (min - 1).ToString(CultureInfo.InvariantCulture), (max + 1).ToString(CultureInfo.InvariantCulture)]);
    }

    /// <summary>A comma-separated list of 1 to <paramref name="maxCount"/> integers, each in [min, max] (like <c>200,200</c>); absent: null.</summary>
    public static Option<int[]?> IntList(string name, int min, int max, int maxCount, string description)
    {
        var option = new Option<int[]?>(name)
        {
            Description = $"{description} (comma-separated, up to {maxCount} values, each {min} to {max}).",
            HelpName = "N,N,...",
            CustomParser = result =>
            {
                string token = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
                string[] parts = token.Split(',');
                var values = new int[parts.Length];
                for (int i = 0; i < parts.Length; i++)
                {
                    if (parts.Length > maxCount || !int.TryParse(parts[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out values[i]) || values[i] < min || values[i] > max)
                    {
                        result.AddError($"{name} must be up to {maxCount} comma-separated integers, each from {min} to {max}; got \"{Printable(token)}\".");
                        return null;
                    }
                }
                return values;
            },
        };
        return Register(option, ["abc", "", "200,", ",200", "200,,200", "1.5", "0", (max + 1L).ToString(CultureInfo.InvariantCulture),
            string.Join(',', Enumerable.Repeat("1", maxCount + 1))]);
    }

    /// <summary>A comma-separated list of 1 to <paramref name="maxCount"/> names of a fixed set (like <c>tanh,relu</c>); absent: null.</summary>
    public static Option<string[]?> ChoiceList(string name, IReadOnlyList<string> choices, int maxCount, string description)
    {
        var option = new Option<string[]?>(name)
        {
            Description = $"{description} (comma-separated, up to {maxCount} of {string.Join(", ", choices)}).",
            HelpName = "NAME,NAME,...",
            CustomParser = result =>
            {
                string token = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
                string[] parts = token.Split(',');
                if (parts.Length > maxCount || parts.Any(p => !choices.Contains(p, StringComparer.Ordinal)))
                {
                    result.AddError($"{name} must be up to {maxCount} comma-separated names, each one of {string.Join(", ", choices)}; got \"{Printable(token)}\".");
                    return null;
                }
                return parts;
            },
        };
        return Register(option, ["", "nope", choices[0] + ",", "," + choices[0], choices[0] + ",," + choices[0], choices[0].ToUpperInvariant(),
            string.Join(',', Enumerable.Repeat(choices[0], maxCount + 1))]);
    }

    /// <summary>A training device in PyTorch's spelling: <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c> (whether it exists is checked when training starts).</summary>
    public static Option<string> Device(string description)
    {
        var option = new Option<string>("--device")
        {
            Description = $"{description} (cpu, cuda, cuda:N).",
            DefaultValueFactory = _ => "cpu",
            HelpName = "DEVICE",
        };
        option.Validators.Add(result =>
        {
            string value = result.GetValueOrDefault<string>() ?? "";
            if (!Microsoft.ML.BatchNormMlp.Training.TrainingDevice.TryParse(value, out _))
                result.AddError($"--device must be cpu, cuda or cuda:N (N from 0 to {Microsoft.ML.BatchNormMlp.Training.TrainingDevice.MaxCudaIndex}); got \"{Printable(value)}\".");
        });
        return Register(option, ["", "gpu", "CPU", "cuda:", "cuda:-1", "cuda:x", "cuda:01", "cuda:99999", " cpu", "--json"]);
    }

    /// <summary>The training engine: auto (managed on the CPU, TorchSharp on CUDA), managed or torchsharp.</summary>
    public static Option<string> Engine(string description) => Choice("--engine", "auto", ["auto", "managed", "torchsharp"], description);

    /// <summary>The <see cref="Microsoft.ML.BatchNormMlp.TrainingEngine"/> an <see cref="Engine"/> value names.</summary>
    public static Microsoft.ML.BatchNormMlp.TrainingEngine EngineValue(string value) => value switch
    {
        "managed" => Microsoft.ML.BatchNormMlp.TrainingEngine.Managed,
        "torchsharp" => Microsoft.ML.BatchNormMlp.TrainingEngine.TorchSharp,
        _ => Microsoft.ML.BatchNormMlp.TrainingEngine.Auto,
    };

    /// <summary>An on/off flag (no value). Whether it was given at all: <see cref="Given"/>.</summary>
    public static Option<bool> Flag(string name, string description) => new(name) { Description = description };

    /// <summary>Whether <paramref name="option"/> appeared on the command line (not just its default).</summary>
    public static bool Given(ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };

    // A custom parser rather than a validator: it sees the raw token, so "abc" and "0" get the same kind of message.
    private static long ParseInteger(ArgumentResult result, string name, long min, long max)
    {
        string token = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (!long.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value) || value < min || value > max)
        {
            result.AddError($"{name} must be an integer from {min} to {max}; got \"{Printable(token)}\".");
            return min;
        }
        return value;
    }

    private static string[] OutOfRange(long min, long max) =>
    [
        "abc", "", "1.5", "1e3", "0x10", "١", "99999999999999999999999",
        .. min > long.MinValue ? [(min - 1).ToString(CultureInfo.InvariantCulture)] : Array.Empty<string>(),
        .. max < long.MaxValue ? [(max + 1).ToString(CultureInfo.InvariantCulture)] : Array.Empty<string>(),
    ];

    private static T Register<T>(T option, string[] refused) where T : Option
    {
        Refused.AddOrUpdate(option, refused);
        return option;
    }

    /// <summary>User text as an error message quotes it: control characters escaped, so the message stays one line.</summary>
    private static string Printable(string text)
    {
        var builder = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length && builder.Length < 80; i++)
        {
            char c = text[i];
            bool pair = char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]);
            if (pair) builder.Append(c).Append(text[++i]);
            else builder.Append(char.IsControl(c) || char.IsSurrogate(c) ? $"\\u{(int)c:X4}" : c);
        }
        return builder.Length < 80 ? builder.ToString() : builder + "...";
    }
}
