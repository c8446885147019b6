namespace BatchNormMlp.Cli;

internal static class Program
{
    private static int Main(string[] args) => BnmlpCli.Run(args, Console.Out, Console.Error);
}
