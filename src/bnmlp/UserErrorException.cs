namespace BatchNormMlp.Cli;

/// <summary>A problem with what the user asked for, which a command detected itself (exit code 1).</summary>
internal sealed class UserErrorException(string message) : Exception(message);
