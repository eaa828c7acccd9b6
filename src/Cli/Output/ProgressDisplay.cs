using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace Hep.Cli.Output;

/// <summary>
/// Training progress for one epoch (or any counted loop). On an interactive terminal (the log is
/// <see cref="Console.Out"/>, stdout is not redirected and Spectre.Console sees an interactive ANSI console) it
/// draws a live Spectre.Console progress bar whose description carries loss, accuracy and items/s; otherwise
/// (redirected output, CI logs, tests) it writes plain <c>\r</c>-prefixed status lines at most every
/// <see cref="PlainInterval"/> and one final line ending in a newline, so logs stay readable.
/// While a live bar is shown nothing else may write to the console; call <see cref="Finish"/> (or dispose) first.
/// <see cref="Finish"/> is idempotent; <see cref="Update"/> after it throws.
/// </summary>
public sealed class ProgressDisplay : IDisposable
{
    /// <summary>Least time between two plain status lines.</summary>
    public static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(0.5);

    private readonly string _title, _unit;
    private readonly int _total;
    private readonly TextWriter? _plain;
    private readonly TimeProvider _time;
    private readonly LiveBar? _live;
    private long _lastPrinted;
    private bool _printedAny, _finished;
    private int _lastLineLength;
    private (int Steps, double Loss, double Accuracy, double Rate)? _latest;

    private ProgressDisplay(string title, int totalSteps, string unit, TextWriter? plain, IAnsiConsole? live, TimeProvider time)
    {
        (_title, _total, _unit, _plain, _time) = (title, totalSteps, unit, plain, time);
        if (live is not null) _live = new LiveBar(live, Markup.Escape(Line()), totalSteps);
    }

    /// <summary>
    /// Starts a display for <paramref name="totalSteps"/> steps (≤ 0: unknown). A live bar when
    /// <paramref name="log"/> is <see cref="Console.Out"/> on an interactive terminal, plain lines to
    /// <paramref name="log"/> otherwise. <paramref name="unit"/> names the items counted by the rate ("jets/s");
    /// <paramref name="timeProvider"/> (default: the system clock) paces the plain lines.
    /// </summary>
    public static ProgressDisplay Start(TextWriter log, string title, int totalSteps, string unit = "jets", TimeProvider? timeProvider = null)
    {
        bool interactive = ReferenceEquals(log, Console.Out) && !Console.IsOutputRedirected
            && AnsiConsole.Profile.Capabilities is { Interactive: true, Ansi: true };
        return interactive
            ? new ProgressDisplay(title, totalSteps, unit, null, AnsiConsole.Console, timeProvider ?? TimeProvider.System)
            : new ProgressDisplay(title, totalSteps, unit, log, null, timeProvider ?? TimeProvider.System);
    }

    /// <summary>Starts a live Spectre.Console progress bar on <paramref name="console"/> (whatever the terminal).</summary>
    public static ProgressDisplay StartLive(IAnsiConsole console, string title, int totalSteps, string unit = "jets") =>
        new(title, totalSteps, unit, null, console, TimeProvider.System);

    /// <summary>True when a live Spectre.Console bar is shown (false: plain lines).</summary>
    public bool IsLive => _live is not null;

    /// <summary>Records progress: <paramref name="stepsDone"/> of the total, running loss and accuracy, throughput.</summary>
    public void Update(int stepsDone, double loss, double accuracy, double itemsPerSecond)
    {
        if (_finished) throw new InvalidOperationException($"ProgressDisplay '{_title}': Update after Finish");
        _latest = (stepsDone, loss, accuracy, itemsPerSecond);
        if (_live is not null)
        {
            _live.Set(stepsDone, Markup.Escape(Line()));
            return;
        }
        long now = _time.GetTimestamp();
        if (_printedAny && _time.GetElapsedTime(_lastPrinted, now) < PlainInterval) return;
        WritePlain(Line(), final: false);
        _lastPrinted = now;
        _printedAny = true;
    }

    /// <summary>Completes the display: the live bar is stopped, or the final plain line is written. Idempotent.</summary>
    public void Finish()
    {
        if (_finished) return;
        _finished = true;
        if (_live is not null) _live.Stop(_latest?.Steps);
        else WritePlain(Line(), final: true);
    }

    public void Dispose() => Finish();

    private string Status(double loss, double accuracy, double rate) => string.Create(CultureInfo.InvariantCulture,
        $"loss {loss:F4}  acc {accuracy:F4}  {rate:F0} {_unit}/s");

    private string Line()
    {
        var ic = CultureInfo.InvariantCulture;
        string count = _total > 0 ? string.Create(ic, $"{_latest?.Steps ?? 0}/{_total}") : (_latest?.Steps ?? 0).ToString(ic);
        return _latest is { } l ? $"{_title} {count}  {Status(l.Loss, l.Accuracy, l.Rate)}" : $"{_title} {count}";
    }

    private void WritePlain(string line, bool final)
    {
        Debug.Assert(_plain is not null);
        // Pad over the rest of a longer previous line so '\r' rewrites leave no stale characters.
        string padded = line.Length < _lastLineLength ? line.PadRight(_lastLineLength) : line;
        _lastLineLength = line.Length;
        _plain.Write('\r');
        _plain.Write(padded);
        if (final) _plain.WriteLine();
        _plain.Flush();
    }

    /// <summary>A Spectre.Console progress bar rendered by a background task until <see cref="Stop"/>.</summary>
    private sealed class LiveBar
    {
        private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _stop = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Task _renderer;
        private ProgressTask? _task;

        public LiveBar(IAnsiConsole console, string description, int total)
        {
            var progress = new Progress(console, TimeProvider.System)
            {
                AutoClear = false,
                HideCompleted = false,
                RefreshRate = TimeSpan.FromMilliseconds(200),
            }.Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn());
            _renderer = Task.Run(() => progress.StartAsync(async ctx =>
            {
                _task = ctx.AddTask(description, autoStart: true, maxValue: Math.Max(total, 1));
                _task.IsIndeterminate = total <= 0;
                _started.SetResult();
                await _stop.Task.ConfigureAwait(false);
                ctx.Refresh();
            }));
            // Wait until the task exists (or rendering failed: rethrow rather than hang).
            Task.WaitAny(_started.Task, _renderer);
            if (_renderer.IsFaulted) _renderer.GetAwaiter().GetResult();
        }

        public void Set(int steps, string description)
        {
            var task = _task!;
            task.Description = description;
            task.Value = Math.Min(steps, task.MaxValue);
        }

        public void Stop(int? steps)
        {
            var task = _task!;
            if (task.IsIndeterminate)
            {
                task.IsIndeterminate = false;       // unknown total: a finished loop is 100%
                task.Value = task.MaxValue;
            }
            else if (steps is int s)
            {
                task.Value = Math.Min(s, task.MaxValue);
            }
            task.StopTask();
            _stop.TrySetResult();
            _renderer.GetAwaiter().GetResult();
        }
    }
}
