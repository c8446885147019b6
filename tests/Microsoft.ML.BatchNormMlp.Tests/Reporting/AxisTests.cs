using BatchNormMlp.Samples.Reporting;

namespace Microsoft.ML.BatchNormMlp.Tests.Reporting;

public class AxisTests
{
    [TestCase(0.13, 0.2)]
    [TestCase(0.2, 0.2)]
    [TestCase(3, 5)]
    [TestCase(7, 10)]
    [TestCase(0.0007, 0.001)]
    [TestCase(1.0, 1.0)]
    [TestCase(240, 500)]
    public void NiceStep_RoundsUpToOneTwoOrFiveTimesAPowerOfTen(double rough, double expected) =>
        Assert.That(Axis.NiceStep(rough), Is.EqualTo(expected).Within(1e-12));

    [Test]
    public void Linear_WidensToWholeStepsWithReadableLabels()
    {
        var axis = Axis.Linear(0.3, 9.7);
        Assert.That(axis.Ticks.Select(t => t.Label), Is.EqualTo(new[] { "0", "2", "4", "6", "8", "10" }));
        Assert.That((axis.Min, axis.Max), Is.EqualTo((0.0, 10.0)));

        var fine = Axis.Linear(-0.93, 0.41);
        Assert.That(fine.Ticks.Select(t => t.Label), Is.EqualTo(new[] { "-1.0", "-0.5", "0", "0.5" }));
    }

    [Test]
    public void Linear_TinyAndHugeStepsUseScientificLabels()
    {
        Assert.That(Axis.Linear(-3e-6, 4e-6).Ticks.Select(t => t.Label),
            Is.EqualTo(new[] { "-4e-6", "-2e-6", "0", "2e-6", "4e-6" }));
        Assert.That(Axis.Linear(0, 3e7).Ticks.Select(t => t.Label),
            Is.EqualTo(new[] { "0", "5e6", "1e7", "1.5e7", "2e7", "2.5e7", "3e7" }));
    }

    [Test]
    public void Linear_ConstantAndMissingDataStillGiveAUsableAxis()
    {
        var constant = Axis.Linear(5, 5);
        Assert.That(constant.Min, Is.LessThan(5));
        Assert.That(constant.Max, Is.GreaterThan(5));
        var none = Axis.Linear(double.NaN, double.NaN);
        Assert.That((none.Min, none.Max), Is.EqualTo((0.0, 1.0)));
    }

    [Test]
    public void Log_UsesDecadesOverManyOrders()
    {
        var axis = Axis.Log(2e-5, 0.03);
        Assert.That(axis.Ticks.Select(t => t.Label), Is.EqualTo(new[] { "1e-5", "1e-4", "0.001", "0.01", "0.1" }));
        Assert.That(axis.IsLog, Is.True);
    }

    [Test]
    public void Log_WithinOneDecadeStaysTight()
    {
        // A loss curve from 1.6 to 3.6: the frame hugs the data and carries linear 1-2-5 ticks, not just 2 and 3.
        var axis = Axis.Log(1.6, 3.6);
        Assert.That(axis.Ticks.Select(t => t.Label), Is.EqualTo(new[] { "2.0", "2.5", "3.0", "3.5" }));
        Assert.That(axis.Min, Is.InRange(1.5, 1.6));
        Assert.That(axis.Max, Is.InRange(3.6, 3.8));
        Assert.That(Axis.Log(1.2, 60).Ticks.Select(t => t.Label), Is.EqualTo(new[] { "1", "2", "5", "10", "20", "50", "100" }));
        // Across decades the frame starts and ends on a tick.
        var wide = Axis.Log(0.03, 70);
        Assert.That((wide.Min, wide.Max), Is.EqualTo((0.01, 100.0)).Within(1e-12));
    }

    [Test]
    public void Map_SendsTheDomainEndsToThePixelEnds()
    {
        var axis = Axis.Log(1, 100);
        axis.SetPixels(400, 0);
        Assert.That(axis.Map(1), Is.EqualTo(400).Within(1e-9));
        Assert.That(axis.Map(10), Is.EqualTo(200).Within(1e-9));
        Assert.That(axis.Map(100), Is.EqualTo(0).Within(1e-9));
        Assert.That(axis.CanShow(0), Is.False);
        Assert.That(axis.CanShow(double.NaN), Is.False);
    }
}
