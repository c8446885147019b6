using BatchNormMlp.Samples.Experiments;

// dotnet run -c Release --project samples/BatchNormMlp.Samples -- <name> [--full] [--data <names.txt or data directory>] [--threads <n>]
// Each sample prints its side-by-side table and writes artifacts/samples/<name>/report.html.
// Help anywhere (`compare --help` too) prints the usage; any other option a sample does not read is an error, not
// ignored (a misspelt option would start a run that is not the one asked for).
if (args.Length == 0 || args.Any(a => a is "-h" or "--help"))
{
    Console.WriteLine("Usage: BatchNormMlp.Samples <name> [--full | --quick] [--data <path>] [--threads <n>]\n\nSamples:");
    foreach (var e in ExperimentCatalog.All) Console.WriteLine($"  {e.Name,-12} {e.Description}");
    return args.Length == 0 ? 1 : 0;
}

var experiment = ExperimentCatalog.Find(args[0]);
if (experiment is null)
{
    Console.Error.WriteLine($"Unknown sample '{args[0]}'. Known: {string.Join(", ", ExperimentCatalog.All.Select(e => e.Name))}.");
    return 1;
}
if (experiment.Problem(args) is string problem)
{
    Console.Error.WriteLine(problem);
    return 1;
}
bool full = args.Contains("--full"), quick = args.Contains("--quick");
string? Option(string name) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
string? dataPath = Option("--data");
if (!int.TryParse(Option("--threads") ?? "1", out int threads) || threads < 1)
{
    Console.Error.WriteLine($"--threads needs a positive whole number, not '{Option("--threads")}'.");
    return 1;
}

Console.WriteLine($"{experiment.Name} ({(full ? "--full" : quick ? "--quick" : "default")} run): {experiment.Description}");
var clock = System.Diagnostics.Stopwatch.StartNew();
ExperimentOutcome outcome;
try { outcome = experiment.Run(new ExperimentSettings(full, dataPath, Threads: threads, Quick: quick, Log: Console.WriteLine, Args: args)); }
catch (ArgumentException e)
{
    Console.Error.WriteLine($"{experiment.Name}: {e.Message}");
    return 1;
}
Console.WriteLine();
Console.Write(outcome.ToText());
string report = outcome.SaveReport(Path.Combine("artifacts", "samples"));
Console.WriteLine($"\nReport: {report}\nTotal time: {clock.Elapsed.TotalSeconds:F1} s");
return 0;
