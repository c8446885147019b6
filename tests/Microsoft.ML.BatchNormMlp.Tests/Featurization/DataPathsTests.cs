using Microsoft.ML.BatchNormMlp.Featurization;

namespace Microsoft.ML.BatchNormMlp.Tests.Featurization;

public class DataPathsTests
{
    // Layout: <tmp>/repo is the base directory; <tmp>/shared/data is "../shared/data" from it.
    private static (TempDirectory Temp, string Repo) Layout(bool inData, bool inShared)
    {
        var temp = new TempDirectory();
        string repo = Path.Combine(temp.Path, "repo");
        Directory.CreateDirectory(repo);
        if (inData) temp.Write("repo/data/names.txt", "local\n");
        if (inShared) temp.Write("shared/data/names.txt", "shared\n");
        return (temp, repo);
    }

    [Test]
    public void Resolve_PrefersDataFolder_OverSharedData()
    {
        var (temp, repo) = Layout(inData: true, inShared: true);
        using (temp)
            Assert.That(DataPaths.Resolve(DataPaths.Names, baseDirectory: repo), Is.EqualTo(Path.Combine(repo, "data", "names.txt")));
    }

    [Test]
    public void Resolve_FallsBackToSharedData()
    {
        var (temp, repo) = Layout(inData: false, inShared: true);
        using (temp)
            Assert.That(DataPaths.Resolve(DataPaths.Names, baseDirectory: repo), Is.EqualTo(Path.Combine(temp.Path, "shared", "data", "names.txt")));
    }

    [Test]
    public void Resolve_ExplicitFile_WinsOverSearch()
    {
        var (temp, repo) = Layout(inData: true, inShared: true);
        using (temp)
        {
            string mine = temp.Write("elsewhere/my-names.txt", "x\n");
            Assert.That(DataPaths.Resolve(DataPaths.Names, mine, repo), Is.EqualTo(mine));
        }
    }

    [Test]
    public void Resolve_ExplicitDirectory_FindsTheFileInside()
    {
        var (temp, repo) = Layout(inData: false, inShared: true);
        using (temp)
            Assert.That(DataPaths.Resolve(DataPaths.Names, "../shared/data", repo), Is.EqualTo(Path.Combine(temp.Path, "shared", "data", "names.txt")));
    }

    [Test]
    public void Resolve_MissingExplicitFile_DoesNotFallBack_AndSaysSo()
    {
        var (temp, repo) = Layout(inData: true, inShared: true);
        using (temp)
        {
            var e = Assert.Throws<FileNotFoundException>(() => DataPaths.Resolve(DataPaths.Names, "nope.txt", repo));
            Assert.That(e!.Message, Does.StartWith($"Data file '{Path.Combine(repo, "nope.txt")}' does not exist."));
            Assert.That(e.Message, Does.Contain("data/fetch-data.sh"));
        }
    }

    [Test]
    public void Resolve_NothingFound_ListsEveryPlaceAndHowToGetTheFile()
    {
        var (temp, repo) = Layout(inData: false, inShared: false);
        using (temp)
        {
            var e = Assert.Throws<FileNotFoundException>(() => DataPaths.Resolve(DataPaths.Names, baseDirectory: repo));
            Assert.That(e!.Message, Is.EqualTo(
                $"Could not find names.txt; looked in '{Path.Combine(repo, "data", "names.txt")}', '{Path.Combine(temp.Path, "shared", "data", "names.txt")}'. "
                + "Get it with data/fetch-data.sh (copies ../shared/data when present, else downloads), or give the path of names.txt explicitly."));
        }
    }

    [Test]
    public void Resolve_Mnist1d_UsesTheSubfolder()
    {
        using var temp = new TempDirectory();
        string repo = Path.Combine(temp.Path, "repo");
        string train = temp.Write("shared/data/mnist1d/mnist1d_train.csv", "label\n");
        Assert.That(DataPaths.Resolve(DataPaths.Mnist1dTrain, baseDirectory: repo), Is.EqualTo(train));
    }

    [Test]
    public void TestHelper_FindsTheRepositoryRoot()
    {
        Assert.That(File.Exists(Path.Combine(TestData.RepositoryRoot, "BatchNormMlp.sln")), Is.True);
        Assert.That(File.Exists(TestData.NamesPath), Is.True);
    }
}
