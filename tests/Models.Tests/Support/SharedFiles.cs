namespace Hep.Models.Tests.Support;

/// <summary>
/// Locates ../shared next to the repository (found by walking up to Engine.sln): golden cases, data
/// subsets and released checkpoints. Missing files fail the test loudly; nothing is copied into the repo.
/// </summary>
internal static class SharedFiles
{
    private static readonly Lazy<string> RepoRootPath = new(FindRepoRoot);

    public static string Root => Path.GetFullPath(Path.Combine(RepoRootPath.Value, "..", "shared"));

    public static string Golden(string caseName) => Existing(Path.Combine(Root, "golden", caseName));

    public static string Data(string folder, string file) => Existing(Path.Combine(Root, "data", folder, file));

    public static string Pretrained(string file) => Path.Combine(Root, "pretrained", file);

    public static string Existing(string path)
    {
        if (!File.Exists(path) && !Directory.Exists(path)) Assert.Fail($"shared test file missing: {path}");
        return path;
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Engine.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException($"Engine.sln not found above {AppContext.BaseDirectory}");
    }
}
