using System.IO.Compression;
using System.Reflection;
using System.Text.Json;
using System.Xml.Linq;
using Microsoft.ML.BatchNormMlp.Tests.Api;
using Microsoft.ML.BatchNormMlp.Tests.Featurization;

namespace Microsoft.ML.BatchNormMlp.Tests.Packaging;

/// <summary>
/// The packages work outside the solution: both projects are packed into a temporary folder, then the library is
/// restored from it into a fresh console project and the tool is installed from it into a fresh tool path, the way
/// a user would, and both are run.
/// </summary>
/// <remarks>
/// Packing uses <c>--no-build</c> with this test assembly's configuration: the test project references both
/// projects, so the exact binaries under test are already built and packing them costs no second build. Restores
/// go to a temporary NUGET_PACKAGES, so a 0.1.0 cached by an earlier pack can never stand in for this one.
/// </remarks>
[NonParallelizable] // spawns dotnet builds; running beside CPU-bound tests only makes both slower
public class PackageInstallTests
{
    private const string Version = "0.1.0";
    private const string LibraryId = "Microsoft.ML.BatchNormMlp";
    private const string ToolId = "bnmlp";
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromMinutes(3);

    // For the tool's featurize run: 20 distinct letters.
    private static readonly string[] Names =
    [
        "emma", "olivia", "ava", "isabella", "sophia", "charlotte", "mia", "amelia", "harper", "evelyn",
        "abigail", "emily", "elizabeth", "mila", "ella", "avery", "sofia", "camila", "aria", "scarlett",
        "victoria", "madison", "luna", "grace", "chloe", "penelope", "layla", "riley", "zoey", "nora",
        "lily", "eleanor", "hannah", "lillian", "addison", "aubrey", "ellie", "stella", "natalie", "zoe",
    ];

    private TempDirectory _temp = null!;
    private string _feed = null!;
    private string _packagesCache = null!;

    [OneTimeSetUp]
    public void PackIntoATemporaryFeed()
    {
        _temp = new TempDirectory();
        _feed = Path.Combine(_temp.Path, "feed");
        _packagesCache = Path.Combine(_temp.Path, "nuget-packages");
        // Stop MSBuild's search for Directory.*.props above the temporary folder (TMPDIR might be inside a repository).
        _temp.Write("Directory.Build.props", "<Project />");
        _temp.Write("Directory.Build.targets", "<Project />");
        _temp.Write("Directory.Packages.props", "<Project />");

        string configuration = typeof(PackageInstallTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
        foreach (string project in new[] { $"src/{LibraryId}/{LibraryId}.csproj", $"src/{ToolId}/{ToolId}.csproj" })
        {
            string path = Path.Combine(TestData.RepositoryRoot, project);
            Run(Dotnet, ["pack", path, "-c", configuration, "--no-build", "-o", _feed], TestData.RepositoryRoot,
                $"packing {project} ({configuration}; --no-build packs the build the tests run against)");
        }
    }

    [OneTimeTearDown]
    public void DeleteTheTemporaryFolder() => _temp?.Dispose();

    [Test]
    public void Packages_CarryReadmeLicenseXmlDocsAndSymbols()
    {
        using (ZipArchive library = ZipFile.OpenRead(PackagePath(LibraryId, "nupkg")))
        {
            XElement metadata = Metadata(library, LibraryId);
            Assert.That(Element(metadata, "version"), Is.EqualTo(Version));
            Assert.That(Element(metadata, "license"), Is.EqualTo("MIT"));
            Assert.That(Element(metadata, "readme"), Is.EqualTo("PACKAGE.md"));
            Assert.That(Entries(library), Is.SupersetOf(new[]
            {
                "PACKAGE.md", $"lib/net10.0/{LibraryId}.dll", $"lib/net10.0/{LibraryId}.xml",
            }));
            // The dependencies a user's restore must find, at the pinned versions.
            Assert.That(metadata.Descendants().Where(e => e.Name.LocalName == "dependency")
                    .Select(e => $"{e.Attribute("id")!.Value} {e.Attribute("version")!.Value}"),
                Is.EquivalentTo(new[] { "Google.Protobuf 3.25.1", "Microsoft.ML 5.0.1", "System.Numerics.Tensors 10.0.0", "TorchSharp 0.107.0" }));
        }
        using (ZipArchive symbols = ZipFile.OpenRead(PackagePath(LibraryId, "snupkg")))
            Assert.That(Entries(symbols), Does.Contain($"lib/net10.0/{LibraryId}.pdb"));

        using (ZipArchive tool = ZipFile.OpenRead(PackagePath(ToolId, "nupkg")))
        {
            XElement metadata = Metadata(tool, ToolId);
            Assert.That(Element(metadata, "license"), Is.EqualTo("MIT"));
            Assert.That(Element(metadata, "readme"), Is.EqualTo("PACKAGE.md"));
            Assert.That(metadata.Descendants().Single(e => e.Name.LocalName == "packageType").Attribute("name")!.Value,
                Is.EqualTo("DotnetTool"));
            // A tool package carries its whole dependency closure; it declares no NuGet dependencies.
            Assert.That(Entries(tool), Is.SupersetOf(new[]
            {
                "PACKAGE.md", "tools/net10.0/any/DotnetToolSettings.xml", "tools/net10.0/any/bnmlp.dll",
                $"tools/net10.0/any/{LibraryId}.dll", "tools/net10.0/any/System.Numerics.Tensors.dll",
                "tools/net10.0/any/Google.Protobuf.dll", "tools/net10.0/any/System.CommandLine.dll",
                "tools/net10.0/any/Spectre.Console.dll",
            }));
        }
        using (ZipArchive symbols = ZipFile.OpenRead(PackagePath(ToolId, "snupkg")))
            Assert.That(Entries(symbols), Does.Contain("tools/net10.0/any/bnmlp.pdb"));
    }

    [Test]
    public void Library_FromTheFolder_RunsTheReadmeProgramInAFreshProject()
    {
        string app = Path.Combine(_temp.Path, "app");
        Directory.CreateDirectory(app);
        // The feed first, then the machine's usual sources (no <clear/>) for System.Numerics.Tensors and Google.Protobuf.
        File.WriteAllText(Path.Combine(app, "NuGet.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="bnmlp-test-feed" value="{_feed}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(app, "app.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="{LibraryId}" Version="{Version}" />
              </ItemGroup>
            </Project>
            """);
        // The README's first library example, exactly as pasted (its using lines included), run from the repository
        // root so that LoadNames() finds names.txt in data/ or ../shared/data/.
        string source = ReadmeProgram.Source();
        File.WriteAllText(Path.Combine(app, "Program.cs"), source);
        Run(Dotnet, ["build", "-c", "Release", "-o", Path.Combine(app, "out")], app, "building a console project that references the package");
        string output = Run(Dotnet, [Path.Combine(app, "out", "app.dll")], TestData.RepositoryRoot, "running the README program");

        Assert.That(Lines(output), Is.EqualTo(ReadmeProgram.ExpectedOutput(source).Where(l => l.Length > 0)),
            "the README program's output differs from its // Expected output: block (deterministic for its seed and one thread)");

        // The package came from the feed, not from some other source or cache.
        string metadata = File.ReadAllText(Path.Combine(_packagesCache, LibraryId.ToLowerInvariant(), Version, ".nupkg.metadata"));
        Assert.That(JsonDocument.Parse(metadata).RootElement.GetProperty("source").GetString()?.TrimEnd('/'), Is.EqualTo(_feed), metadata);
    }

    [Test]
    public void Tool_FromTheFolder_InstallsAndRuns()
    {
        string toolPath = Path.Combine(_temp.Path, "tools");
        // Only the feed: the tool package must carry everything it needs.
        string config = _temp.Write("tool-nuget.config", $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="bnmlp-test-feed" value="{_feed}" />
              </packageSources>
            </configuration>
            """);
        Run(Dotnet, ["tool", "install", ToolId, "--tool-path", toolPath, "--add-source", _feed, "--configfile", config, "--version", Version],
            _temp.Path, "installing the tool from the feed");
        string bnmlp = Path.Combine(toolPath, OperatingSystem.IsWindows() ? "bnmlp.exe" : "bnmlp");
        Assert.That(File.Exists(bnmlp), Is.True, $"no {bnmlp} after the install");

        string help = Run(bnmlp, ["--help"], _temp.Path, "bnmlp --help");
        Assert.That(help, Does.Contain("featurize"));

        string names = _temp.Write("names.txt", string.Join('\n', Names) + "\n");
        string output = Run(bnmlp, ["featurize", "--data", names, "--json"], _temp.Path, "bnmlp featurize --json");
        using JsonDocument json = JsonDocument.Parse(Lines(output)[^1]);
        JsonElement root = json.RootElement;
        Assert.That(root.GetProperty("command").GetString(), Is.EqualTo("featurize"), output);
        Assert.That(root.GetProperty("data").GetString(), Is.EqualTo(names), output);
        Assert.That(root.GetProperty("names").GetInt32(), Is.EqualTo(Names.Length), output);
        Assert.That(root.GetProperty("vocabularySize").GetInt32(), Is.EqualTo(Names.SelectMany(n => n).Distinct().Count() + 1), output);
        // Every name of n letters gives n + 1 rows (its letters, then the closing boundary).
        Assert.That(root.GetProperty("rows").GetInt32(), Is.EqualTo(Names.Sum(n => n.Length + 1)), output);
    }

    private string PackagePath(string id, string extension)
    {
        string path = Path.Combine(_feed, $"{id}.{Version}.{extension}");
        Assert.That(File.Exists(path), Is.True, $"{path} was not packed; the feed holds: {string.Join(", ", Directory.GetFiles(_feed).Select(Path.GetFileName))}");
        return path;
    }

    private static XElement Metadata(ZipArchive package, string id)
    {
        using Stream nuspec = package.GetEntry($"{id}.nuspec")!.Open();
        return XDocument.Load(nuspec).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
    }

    private static string? Element(XElement metadata, string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value;

    private static string[] Entries(ZipArchive package) => [.. package.Entries.Select(e => e.FullName)];

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();

    private static double Figure(string[] lines, string prefix)
    {
        string? line = lines.FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        Assert.That(line, Is.Not.Null, $"no line starting with '{prefix}' in:\n{string.Join('\n', lines)}");
        return double.Parse(line![prefix.Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The dotnet muxer running these tests (the CLI tells its children in DOTNET_HOST_PATH).</summary>
    private static string Dotnet =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
        : Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";

    /// <summary>Runs a process to completion; fails the test with its whole output unless it exits with 0.</summary>
    private string Run(string fileName, string[] arguments, string workingDirectory, string what)
    {
        var start = new System.Diagnostics.ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);

        // Variables the test host inherited from `dotnet test` would point a nested MSBuild at this run's SDK state.
        foreach (string key in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
            start.Environment.Remove(key);
        start.Environment["NUGET_PACKAGES"] = _packagesCache;
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        // No MSBuild nodes or compiler servers outliving the build: they would hold our output pipes open.
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["UseSharedCompilation"] = "false";
        // The tool's apphost finds the runtime beside the muxer we use, wherever it is installed.
        if (Path.IsPathRooted(Dotnet)) start.Environment["DOTNET_ROOT"] = Path.GetDirectoryName(Dotnet);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var process = System.Diagnostics.Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(), stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(ProcessTimeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{what}: `{fileName} {string.Join(' ', arguments)}` did not finish in {ProcessTimeout.TotalSeconds} s.");
        }
        // A grandchild that outlived its parent would keep the pipes open; do not wait on it forever.
        if (!Task.WaitAll([stdout, stderr], TimeSpan.FromSeconds(30)))
            Assert.Fail($"{what}: `{fileName} {string.Join(' ', arguments)}` exited but its output streams stayed open.");
        string output = stdout.Result, error = stderr.Result;
        TestContext.Out.WriteLine($"{what}: {clock.Elapsed.TotalSeconds:F1} s, exit {process.ExitCode}\n{output}{error}");
        Assert.That(process.ExitCode, Is.EqualTo(0),
            $"{what} failed: `{fileName} {string.Join(' ', arguments)}` in {workingDirectory} exited with {process.ExitCode}.\n" +
            $"--- standard output ---\n{output}\n--- standard error ---\n{error}");
        return output;
    }
}
