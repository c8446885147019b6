using System.CommandLine;
using System.CommandLine.Help;
using BatchNormMlp.Cli;

namespace Microsoft.ML.BatchNormMlp.Tests.Reliability;

// Microsoft.ML (referenced for the ONNX pipeline tests) has a namespace Microsoft.ML.Command, which the enclosing
// namespace Microsoft.ML would find before the file's using directives; an alias inside this namespace comes first.
using Command = System.CommandLine.Command;

/// <summary>
/// Hostile arguments for every registered command: each option's refused values (out of range, not a number, empty,
/// control characters), a missing value, unknown options and commands. Each gives exit code 1 and one line naming the
/// option. The cases come from the commands themselves, so a new command gets the same checks without a new test;
/// an option not built with <see cref="CommonOptions"/> fails <see cref="EveryOption_IsBuiltWithCommonOptions"/>.
/// </summary>
public class CliArgumentTests
{
    private static IEnumerable<System.CommandLine.Command> Commands() => BnmlpCli.CreateRootCommand().Subcommands;

    /// <summary>Options that take a value: not flags (bool), not the built-in help.</summary>
    private static IEnumerable<Option> ValueOptions(System.CommandLine.Command command) =>
        command.Options.Where(o => o is not HelpOption && o is not VersionOption && o.ValueType != typeof(bool));

    private static IEnumerable<TestCaseData> RefusedValues() =>
        from command in Commands()
        from option in ValueOptions(command)
        from value in CommonOptions.RefusedValues(option) ?? []
        select new TestCaseData(command.Name, option.Name, value).SetName($"{command.Name} {option.Name} \"{Escape(value)}\"");

    private static IEnumerable<TestCaseData> AllValueOptions() =>
        from command in Commands()
        from option in ValueOptions(command)
        select new TestCaseData(command.Name, option.Name).SetName($"{command.Name} {option.Name}");

    private static string Escape(string value) => string.Concat(value.Select(c => char.IsControl(c) || char.IsSurrogate(c) ? $"\\u{(int)c:X4}" : c.ToString()));

    [Test]
    public void EveryOption_IsBuiltWithCommonOptions()
    {
        var commands = Commands().ToList();
        Assert.That(commands, Is.Not.Empty);
        foreach (var command in commands)
            foreach (var option in ValueOptions(command))
                Assert.That(CommonOptions.RefusedValues(option), Is.Not.Null.And.Not.Empty,
                    $"{command.Name} {option.Name} was not built with CommonOptions, so nothing checks its values");
    }

    [TestCaseSource(nameof(RefusedValues))]
    public void RefusedValue_ExitsWith1_WithOneLineNamingTheOption(string command, string option, string value) =>
        Cli.AssertUserError([command, option, value], option);

    [TestCaseSource(nameof(AllValueOptions))]
    public void MissingValue_ExitsWith1_NamingTheOption(string command, string option)
    {
        Cli.AssertUserError([command, option], option);
        Cli.AssertUserError([command, option, "--json"], option); // the next token is an option, not a value
    }

    [TestCaseSource(nameof(AllValueOptions))]
    public void HugeValue_ExitsWith1(string command, string option) =>
        Cli.AssertUserError([command, option, new string('9', 100_000)], option);

    [Test]
    public void UnknownOptionsCommandsAndFlagValues_ExitWith1()
    {
        foreach (var command in Commands())
        {
            Cli.AssertUserError([command.Name, "--no-such-option", "1"], "Unrecognized command or argument '--no-such-option'");
            Cli.AssertUserError([command.Name, "-z"], "'-z'");
            Cli.AssertUserError([command.Name, "--json", "maybe"], "'maybe'");
            Cli.AssertUserError([command.Name, "stray"], "'stray'");
        }
        Cli.AssertUserError(["frobnicate"], "'frobnicate'");
        Cli.AssertUserError([], "Required command was not provided.");
    }

    [Test]
    public void Help_ExitsWith0_ForEveryCommand()
    {
        foreach (var command in Commands())
        {
            var (exit, output, error) = Cli.Run(command.Name, "--help");
            Assert.That(exit, Is.EqualTo(0), error);
            foreach (var option in ValueOptions(command))
                Assert.That(output, Does.Contain(option.Name), command.Name);
        }
    }
}
