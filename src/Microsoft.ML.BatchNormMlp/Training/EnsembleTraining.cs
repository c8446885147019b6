using System.Diagnostics;
using Microsoft.ML.BatchNormMlp.Model;
using Microsoft.ML.BatchNormMlp.Numerics;

namespace Microsoft.ML.BatchNormMlp.Training;

/// <summary>
/// Trains K members of one architecture from K seeds and merges them into one network (<see cref="EnsembleMerge"/>):
/// member m is the single run of seed + m (initialization and sampler alike) with the activation
/// <see cref="TrainingOptions.EnsembleActivations"/> gives it, so member 0 is exactly the model a single run at that
/// seed and activation trains. Members train at the same time, each on a thread of its own with
/// <see cref="TrainingOptions.Threads"/> threads for its products, as many at once as the machine has cores for
/// (managed engine; TorchSharp members run one after another, libtorch keeping its own threads). Each member's tensors
/// depend only on its seed and thread count, so the merged network is the same however many run at once.
/// Checkpoints belong to single runs: an ensemble run takes none.
/// </summary>
internal static class EnsembleTraining
{
    /// <summary>What one member's run did, and the merged network's validation loss.</summary>
    public sealed record Result(MlpNetwork Network, IReadOnlyList<TrainingResult> Members, double? ValidationLoss, TimeSpan Elapsed)
    {
        /// <summary>The run as one result: the members' steps, their mean last loss, the merged network's validation loss, the wall time.</summary>
        public TrainingResult Summary => new(Members[0].Steps, Members.Average(r => r.LastBatchLoss), ValidationLoss,
            Members.Sum(r => r.Steps) / Math.Max(Elapsed.TotalSeconds, 1e-9), Elapsed);
    }

    /// <param name="member">The architecture of each member (its activation replaced by <see cref="TrainingOptions.EnsembleActivations"/>, if set).</param>
    /// <param name="init">Their initialization.</param>
    /// <param name="options">Each member's training options (member m uses <c>Seed + m</c>) and <see cref="TrainingOptions.EnsembleMembers"/>, how many.</param>
    /// <param name="initSeed">Member m initializes from <c>Rng(initSeed + m)</c>.</param>
    /// <param name="train">The training rows.</param>
    /// <param name="validation">Rows for the validation loss of the merged network (and of each member while it trains); optional.</param>
    /// <param name="progress">Each member's progress, by member index; null: none.</param>
    /// <param name="concurrency">Members training at once; null: as many as the cores allow at <see cref="TrainingOptions.Threads"/> each.</param>
    /// <param name="cancellation">Stops every member between two steps.</param>
    public static Result Train(MlpConfig member, InitOptions init, TrainingOptions options, ulong initSeed, Dataset train, Dataset? validation,
        Func<int, IProgress<TrainingProgress>?>? progress = null, int? concurrency = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(member); ArgumentNullException.ThrowIfNull(options); ArgumentNullException.ThrowIfNull(train);
        options.Validate();
        int members = options.EnsembleMembers;
        if (members > 1)
        {
            MergedConfig(member, options);   // fails now, not after the training, for an architecture that cannot merge
            if (options.CheckpointPath is not null)
                throw new ArgumentException("An ensemble run takes no checkpoints (each member is a run of its own seed): train without a checkpoint path, or train the members apart and merge them.", nameof(options));
        }
        int atOnce = concurrency ?? (TrainingEngines.Resolve(options) == TrainingEngine.Managed ? Math.Max(1, Environment.ProcessorCount / Math.Max(1, options.Threads)) : 1);
        atOnce = Math.Clamp(atOnce, 1, members);

        var networks = new MlpNetwork[members];
        var results = new TrainingResult[members];
        var failures = new Exception?[members];
        var clock = Stopwatch.StartNew();
        int next = -1;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        void Work()
        {
            for (int m; (m = Interlocked.Increment(ref next)) < members && !stop.IsCancellationRequested;)
            {
                try
                {
                    var network = new MlpNetwork(MemberConfig(member, options, m));
                    Initialization.Initialize(network, init, new Rng(unchecked(initSeed + (ulong)m)));
                    using var trainer = new Trainer(network, options with { Seed = unchecked(options.Seed + (ulong)m), EnsembleMembers = 1 });
                    results[m] = trainer.Train(train, validation, progress?.Invoke(m), stop.Token);
                    network.ReleaseWorkspaces();
                    networks[m] = network;
                }
                catch (Exception e)
                {
                    failures[m] = e;
                    stop.Cancel();   // the others stop between two steps
                }
            }
        }
        if (atOnce == 1) Work();
        else
        {
            var threads = Enumerable.Range(0, atOnce).Select(i => new Thread(Work) { Name = $"ensemble member {i}", IsBackground = true }).ToArray();
            foreach (var t in threads) t.Start();
            foreach (var t in threads) t.Join();
        }
        // The first real failure, not the cancellations it caused in the other members.
        var failure = failures.FirstOrDefault(e => e is not null and not OperationCanceledException) ?? failures.FirstOrDefault(e => e is not null);
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        cancellation.ThrowIfCancellationRequested();

        if (members == 1) return new Result(networks[0], results, results[0].ValidationLoss, clock.Elapsed);
        var merged = EnsembleMerge.Merge(networks);
        merged.Threads = options.Threads;
        double? validationLoss = validation is null ? null : merged.Evaluate(validation, options.EvaluationChunk);
        merged.ReleaseWorkspaces();
        return new Result(merged, results, validationLoss, clock.Elapsed);
    }

    /// <summary>Member m's architecture: <paramref name="member"/> with the activation <see cref="TrainingOptions.EnsembleActivations"/> gives it in turn.</summary>
    public static MlpConfig MemberConfig(MlpConfig member, TrainingOptions options, int m)
    {
        ArgumentNullException.ThrowIfNull(member); ArgumentNullException.ThrowIfNull(options);
        return options.EnsembleActivations is { Count: > 0 } activations
            ? member with { Activation = activations[m % activations.Count], ActivationGroups = null }
            : member;
    }

    /// <summary>The architecture the run's merged network will have (<see cref="EnsembleMerge.Config(IReadOnlyList{MlpConfig})"/> of the members').</summary>
    /// <exception cref="ArgumentException">The members cannot merge.</exception>
    public static MlpConfig MergedConfig(MlpConfig member, TrainingOptions options) =>
        EnsembleMerge.Config(Enumerable.Range(0, options.EnsembleMembers).Select(m => MemberConfig(member, options, m)).ToArray());
}
