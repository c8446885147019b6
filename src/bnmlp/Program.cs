namespace BatchNormMlp.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        Console.Error.WriteLine("bnmlp: no commands yet");
        return 2;
    }
}
