using Hep.Cli.Output;
using Spectre.Console;

namespace Hep.Cli.Tests;

public class ProgressDisplayTests
{
    /// <summary>A clock the test advances by hand.</summary>
    private sealed class ManualClock : TimeProvider
    {
        public long Ticks;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => Ticks;
        public void Advance(double seconds) => Ticks += (long)(seconds * TimeSpan.TicksPerSecond);
    }

    [Test]
    public void PlainLinesArePacedAndEndWithAFinalLine()
    {
        var log = new StringWriter();
        var clock = new ManualClock();
        var progress = ProgressDisplay.Start(log, "epoch 3", 100, timeProvider: clock);
        Assert.That(progress.IsLive, Is.False);

        progress.Update(10, 0.69314, 0.5123, 1234.4);      // first update: printed
        clock.Advance(0.2);
        progress.Update(20, 0.5, 0.6, 2000);                // 0.2 s later: suppressed
        clock.Advance(0.4);
        progress.Update(30, 0.41234, 0.75, 2500.6);         // 0.6 s after the first: printed
        clock.Advance(0.1);
        progress.Update(100, 0.3, 0.875, 3000);             // suppressed, but Finish prints the latest values
        progress.Finish();

        Assert.That(log.ToString(), Is.EqualTo(
            "\repoch 3 10/100  loss 0.6931  acc 0.5123  1234 jets/s" +
            "\repoch 3 30/100  loss 0.4123  acc 0.7500  2501 jets/s" +
            "\repoch 3 100/100  loss 0.3000  acc 0.8750  3000 jets/s" + Environment.NewLine));
    }

    [Test]
    public void FinishIsIdempotentAndUpdateAfterFinishThrows()
    {
        var log = new StringWriter();
        using (var progress = ProgressDisplay.Start(log, "train", 0, unit: "events", timeProvider: new ManualClock()))
        {
            progress.Update(7, 1.5, 0.25, 42);
            progress.Finish();
            string once = log.ToString();
            progress.Finish();
            progress.Dispose();
            Assert.That(log.ToString(), Is.EqualTo(once));
            Assert.That(once, Does.EndWith("\rtrain 7  loss 1.5000  acc 0.2500  42 events/s" + Environment.NewLine));
            Assert.Throws<InvalidOperationException>(() => progress.Update(8, 1, 1, 1));
        }
        // Dispose without any update still closes the line.
        var empty = new StringWriter();
        ProgressDisplay.Start(empty, "val", 5).Dispose();
        Assert.That(empty.ToString(), Is.EqualTo("\rval 0/5" + Environment.NewLine));
    }

    [Test]
    public void ShorterLinesOverwriteLongerOnes()
    {
        var log = new StringWriter();
        var clock = new ManualClock();
        var progress = ProgressDisplay.Start(log, "e", 10, timeProvider: clock);
        progress.Update(1, 10.5, 0.5, 123456);
        clock.Advance(1);
        progress.Update(2, 1, 0.5, 1);
        progress.Finish();
        var lines = log.ToString().TrimEnd('\n', '\r').Split('\r', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(3));
        Assert.That(lines[1].Length, Is.EqualTo(lines[0].Length), "padded over the longer previous line");
        Assert.That(lines[1].TrimEnd(), Is.EqualTo("e 2/10  loss 1.0000  acc 0.5000  1 jets/s"));
    }

    [Test]
    public void ConsoleOutUnderTheTestRunnerIsNotATerminal()
    {
        // The runner redirects stdout, so even Console.Out gets plain lines.
        Assume.That(Console.IsOutputRedirected, Is.True);
        using var progress = ProgressDisplay.Start(Console.Out, "redirected", 3);
        Assert.That(progress.IsLive, Is.False);
    }

    [Test]
    public void LiveBarShowsTheValuesOnASpectreConsole()
    {
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.Yes,
            Interactive = InteractionSupport.Yes,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = 160;
        var progress = ProgressDisplay.StartLive(console, "epoch [1]", 50);
        Assert.That(progress.IsLive, Is.True);
        progress.Update(25, 0.1234, 0.9876, 4321);
        progress.Finish();
        progress.Finish();
        string text = output.ToString();
        Assert.That(text, Does.Contain("epoch [1] 25/50  loss 0.1234  acc 0.9876  4321 jets/s"), text);
        Assert.That(text, Does.Contain("50%"));
    }
}
