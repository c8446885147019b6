namespace BatchNormMlp.Cli;

/// <summary>The process exit codes of every command.</summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The user can fix it: a bad option, a missing or malformed file. Reported in one line, no stack trace.</summary>
    public const int UserError = 1;

    /// <summary>A bug in bnmlp: reported with its stack trace.</summary>
    public const int InternalError = 2;
}
