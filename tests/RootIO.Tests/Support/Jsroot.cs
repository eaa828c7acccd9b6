// Jsroot: runs the independent JavaScript reader (npm package jsroot) on a file. The package is
// installed on first use into tests/RootIO.Tests/jsroot/ (git-ignored). When node or npm is
// missing, or the install fails, tests are reported as ignored with the reason - never passed.
using System.Diagnostics;
using System.Text.Json;

namespace Hep.RootIO.Tests.Support;

internal static class Jsroot
{
    private static readonly Lazy<string?> s_unavailable = new(Install);

    private static string ProjectDir => Path.Combine(TestData.RepoRoot, "tests", "RootIO.Tests");

    private static string InstallDir => Path.Combine(ProjectDir, "jsroot");

    /// <summary>Ignores the calling test, with the reason, when jsroot cannot be used here.</summary>
    public static void RequireOrIgnore()
    {
        if (s_unavailable.Value is { } why) Assert.Ignore($"jsroot round trip not run: {why}");
    }

    /// <summary>Reads branches entry by entry with jsroot; returns entries and per-branch values.</summary>
    public static (long Entries, Dictionary<string, List<JsonElement>> Branches) Read(string file, string tree, params string[] branches)
    {
        RequireOrIgnore();
        var (code, stdout, stderr) = Run("node", [Path.Combine(ProjectDir, "read_with_jsroot.mjs"), file, tree, .. branches], ProjectDir, 120);
        if (code != 0) Assert.Fail($"jsroot failed to read {file} (exit {code}): {stderr}");
        var doc = JsonDocument.Parse(stdout).RootElement;
        var result = new Dictionary<string, List<JsonElement>>();
        foreach (var b in doc.GetProperty("branches").EnumerateObject())
            result[b.Name] = b.Value.EnumerateArray().Select(e => e.Clone()).ToList();
        return (doc.GetProperty("entries").GetInt64(), result);
    }

    private static string? Install()
    {
        if (File.Exists(Path.Combine(InstallDir, "node_modules", "jsroot", "modules", "main.mjs"))) return null;
        if (!Works("node", "--version")) return "node (Node.js) is not installed or not on PATH";
        if (!Works("npm", "--version")) return "npm is not installed or not on PATH (scripts/ci-setup.sh installs it)";
        Directory.CreateDirectory(InstallDir);
        var (code, stdout, stderr) = Run("npm", ["install", "--omit=optional", "--ignore-scripts", "--no-audit", "--no-fund", "jsroot"], InstallDir, 300);
        if (code != 0) return $"'npm install jsroot' failed with exit code {code}: {stderr}{stdout}";
        return File.Exists(Path.Combine(InstallDir, "node_modules", "jsroot", "modules", "main.mjs"))
            ? null : "npm install finished but jsroot/modules/main.mjs is missing";
    }

    private static bool Works(string exe, string arg)
    {
        try
        {
            return Run(exe, [arg], ProjectDir, 30).Code == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    private static (int Code, string Stdout, string Stderr) Run(string exe, string[] args, string cwd, int timeoutSeconds)
    {
        var psi = new ProcessStartInfo(exe) { WorkingDirectory = cwd, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutSeconds * 1000))
        {
            p.Kill(entireProcessTree: true);
            return (-1, "", $"timed out after {timeoutSeconds} s");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
