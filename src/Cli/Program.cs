namespace Hep.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        Console.WriteLine("hep: not yet implemented");
        return 0;
    }
}
