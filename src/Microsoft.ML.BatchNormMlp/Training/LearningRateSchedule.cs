namespace Microsoft.ML.BatchNormMlp.Training;

/// <summary>The learning rate for each step of a run of <c>totalSteps</c> steps (steps count from 0).</summary>
internal abstract record LearningRateSchedule
{
    public abstract float At(int step, int totalSteps);
}

/// <summary>The same rate at every step.</summary>
internal sealed record ConstantSchedule(double Rate) : LearningRateSchedule
{
    public override float At(int step, int totalSteps) => (float)Rate;
}

/// <summary>
/// <c>Initial</c> until step <c>AtStep</c> (default: half-way, <c>totalSteps / 2</c>), then <c>Initial · Factor</c>.
/// torch_ref.py lowers the rate at <c>i == steps // 2</c> before that step's update, so the boundary step already
/// uses the lower rate; so does this schedule.
/// </summary>
internal sealed record StepDecaySchedule(double Initial, double Factor = 0.1, int? AtStep = null) : LearningRateSchedule
{
    public override float At(int step, int totalSteps) => (float)(step < (AtStep ?? totalSteps / 2) ? Initial : Initial * Factor);
}
