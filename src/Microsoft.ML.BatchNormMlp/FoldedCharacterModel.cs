using Microsoft.ML.BatchNormMlp.Export;

namespace Microsoft.ML.BatchNormMlp;

/// <summary>
/// A character model whose BatchNorm layers are folded into its Linear layers (<see cref="BatchNormCharacterModel.Fold"/>):
/// the same predictions up to float rounding, with less work per row. Its model file holds no <c>norm</c> tensors.
/// </summary>
public sealed class FoldedCharacterModel : CharacterModel
{
    private readonly FoldedMlp _mlp;

    internal FoldedCharacterModel(ModelState folded, Vocabulary vocabulary) : base(vocabulary, folded.Config)
    {
        _mlp = new FoldedMlp(folded);
    }

    /// <inheritdoc/>
    public override bool IsFolded => true;

    internal override ModelState ToModelState() => _mlp.Model with { LastSymbolIsUnknown = Vocabulary.UnknownId is not null };

    internal override void ComputeLogits(ReadOnlySpan<int> contexts, int rows, Span<float> logits) => _mlp.Forward(contexts, rows, logits);
}
