namespace Microsoft.ML.BatchNormMlp;

/// <summary>How name-like a string is under a model (<see cref="CharacterModel.Score"/>).</summary>
/// <param name="Name">The scored string.</param>
/// <param name="LogLikelihood">Natural log of the probability of the whole string, its end included: the sum over its symbols and the end of name.</param>
/// <param name="Predictions">Predictions summed: the string's symbols plus one for the end.</param>
/// <param name="Perplexity"><c>exp(-LogLikelihood / Predictions)</c>: lower is more name-like.</param>
public readonly record struct NameScore(string Name, double LogLikelihood, int Predictions, double Perplexity);
