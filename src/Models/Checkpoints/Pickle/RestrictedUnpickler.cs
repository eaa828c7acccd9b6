using System.Buffers.Binary;
using System.Text;

namespace Hep.Models.Checkpoints.Pickle;

/// <summary>
/// A pickle reader (protocols 2–5) that accepts only state-dict content: dicts/OrderedDicts, lists,
/// tuples, strings, numbers, booleans, None, and tensors rebuilt by torch._utils._rebuild_tensor_v2 /
/// _rebuild_parameter over persistent-id storages. Any other global, or an opcode that could build an
/// arbitrary object, is rejected with an error naming it; nothing is ever imported or executed.
/// </summary>
internal sealed class RestrictedUnpickler
{
    private const int MaxMemo = 1 << 20;
    private const int MaxStack = 1 << 20;

    private static readonly Dictionary<string, (HostDType DType, int Bytes, bool Half, bool BFloat16)> StorageTypes = new()
    {
        ["FloatStorage"] = (HostDType.Float32, 4, false, false),
        ["DoubleStorage"] = (HostDType.Float64, 8, false, false),
        ["HalfStorage"] = (HostDType.Float32, 2, true, false),
        ["BFloat16Storage"] = (HostDType.Float32, 2, false, true),
        ["LongStorage"] = (HostDType.Int64, 8, false, false),
        ["IntStorage"] = (HostDType.Int32, 4, false, false),
    };

    private readonly byte[] _data;
    private readonly string _source;
    private readonly List<object?> _stack = [];
    private readonly Dictionary<long, object?> _memo = [];
    private int _pos;

    private RestrictedUnpickler(byte[] data, string source)
    {
        _data = data;
        _source = source;
    }

    /// <summary>Parses a whole pickle and returns its root object.</summary>
    public static object? Load(byte[] data, string source) => new RestrictedUnpickler(data, source).Run();

    private CheckpointFormatException Error(string message) => new($"{_source}: pickle offset {_pos}: {message}");

    private object? Run()
    {
        while (true)
        {
            byte op = ReadByte();
            switch (op)
            {
                case 0x80: ReadByte(); break; // PROTO
                case 0x95: Skip(8); break; // FRAME
                case (byte)'.': // STOP
                    if (_stack.Count != 1) throw Error($"STOP with {_stack.Count} items on the stack");
                    return _stack[0];
                case (byte)'(': Push(PickleMark.Instance); break;
                case (byte)'}': Push(new PickleDict()); break;
                case (byte)']': Push(new List<object?>()); break;
                case (byte)')': Push(Array.Empty<object?>()); break;
                case (byte)'t': Push(PopToMark().ToArray()); break;
                case 0x85: Push(new[] { Pop() }); break;
                case 0x86: { var b = Pop(); var a = Pop(); Push(new[] { a, b }); break; }
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new[] { a, b, c }); break; }
                case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;
                case (byte)'K': Push((long)ReadByte()); break;
                case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break;
                case 0x8a: Push(ReadLong(ReadByte())); break; // LONG1
                case (byte)'N': Push(null); break;
                case 0x88: Push(true); break;
                case 0x89: Push(false); break;
                case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break;
                case (byte)'X': Push(ReadString(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))); break;
                case 0x8c: Push(ReadString(ReadByte())); break; // SHORT_BINUNICODE
                case 0x8d: Push(ReadString(BinaryPrimitives.ReadUInt64LittleEndian(Take(8)))); break; // BINUNICODE8
                case (byte)'q': Memo(ReadByte()); break; // BINPUT
                case (byte)'r': Memo(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))); break; // LONG_BINPUT
                case 0x94: Memo(_memo.Count); break; // MEMOIZE
                case (byte)'h': Push(Recall(ReadByte())); break; // BINGET
                case (byte)'j': Push(Recall(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))); break; // LONG_BINGET
                case (byte)'c': Push(Global(ReadLine(), ReadLine())); break; // GLOBAL
                case 0x93: { var name = Pop() as string; var module = Pop() as string; Push(Global(module ?? throw Error("STACK_GLOBAL module is not a string"), name ?? throw Error("STACK_GLOBAL name is not a string"))); break; }
                case (byte)'R': { var args = Pop() as object?[] ?? throw Error("REDUCE arguments are not a tuple"); Push(Call(Pop(), args)); break; }
                case (byte)'b': Build(Pop()); break;
                case (byte)'s': { var v = Pop(); var k = Pop(); AsDict(Peek()).Set(k, v); break; }
                case (byte)'u': { var items = PopToMark(); var d = AsDict(Peek()); if (items.Count % 2 != 0) throw Error("SETITEMS with an odd item count"); for (int i = 0; i < items.Count; i += 2) d.Set(items[i], items[i + 1]); break; }
                case (byte)'a': { var v = Pop(); AsList(Peek()).Add(v); break; }
                case (byte)'e': { var items = PopToMark(); AsList(Peek()).AddRange(items); break; }
                case (byte)'Q': Push(PersistentLoad(Pop())); break; // BINPERSID
                case (byte)'0': Pop(); break;
                case (byte)'1': PopToMark(); break;
                case (byte)'2': Push(Peek()); break;
                default:
                    throw Error($"opcode 0x{op:x2} ('{(op >= 32 && op < 127 ? (char)op : '?')}') is not allowed in a state-dict checkpoint");
            }
        }
    }

    private PickleGlobal Global(string module, string name)
    {
        bool allowed = (module, name) switch
        {
            ("collections", "OrderedDict") => true,
            ("torch._utils", "_rebuild_tensor_v2" or "_rebuild_parameter" or "_rebuild_parameter_with_state") => true,
            ("torch", _) when StorageTypes.ContainsKey(name) => true,
            _ => false,
        };
        if (!allowed) throw Error($"forbidden global '{module}.{name}' (only state-dict content is accepted)");
        return new PickleGlobal(module, name);
    }

    private object? Call(object? callable, object?[] args)
    {
        if (callable is not PickleGlobal g) throw Error($"REDUCE on a non-callable {Describe(callable)}");
        switch (g.Name)
        {
            case "OrderedDict":
                if (args.Length != 0) throw Error("OrderedDict with constructor arguments");
                return new PickleDict();
            case "_rebuild_tensor_v2":
            {
                if (args.Length < 6) throw Error($"_rebuild_tensor_v2 with {args.Length} arguments");
                var storage = args[0] as StorageReference ?? throw Error("_rebuild_tensor_v2: first argument is not a storage");
                long offset = args[1] as long? ?? throw Error("_rebuild_tensor_v2: offset is not an integer");
                var size = Ints(args[2], "size").Select(v => checked((int)v)).ToArray();
                var stride = Ints(args[3], "stride");
                if (size.Length != stride.Length) throw Error("_rebuild_tensor_v2: size and stride ranks differ");
                return new TensorReference(storage, offset, size, stride);
            }
            case "_rebuild_parameter":
            case "_rebuild_parameter_with_state":
                return args.Length >= 1 && args[0] is TensorReference t ? t : throw Error($"{g.Name}: first argument is not a tensor");
            default:
                throw Error($"'{g}' cannot be called");
        }
    }

    private long[] Ints(object? value, string what) => value is object?[] tuple && tuple.All(v => v is long)
        ? tuple.Select(v => (long)v!).ToArray()
        : throw Error($"_rebuild_tensor_v2: {what} is not a tuple of integers");

    private object PersistentLoad(object? pid)
    {
        if (pid is not object?[] { Length: 5 } t || t[0] is not "storage")
            throw Error($"persistent id {Describe(pid)} is not a ('storage', type, key, location, numel) tuple");
        if (t[1] is not PickleGlobal { Module: "torch" } type || !StorageTypes.TryGetValue(type.Name, out var info))
            throw Error($"unsupported storage type {Describe(t[1])}");
        if (t[2] is not string key || t[4] is not long numel || numel < 0) throw Error("malformed storage reference");
        return new StorageReference(key, info.DType, info.Bytes, info.Half, info.BFloat16, numel);
    }

    private void Build(object? state)
    {
        var target = Peek();
        if (target is not PickleDict) throw Error($"BUILD on {Describe(target)} (only dict state is accepted)");
        if (state is not (PickleDict or null or object?[])) throw Error($"BUILD with state {Describe(state)}");
    }

    private PickleDict AsDict(object? o) => o as PickleDict ?? throw Error($"SETITEM on {Describe(o)}");
    private List<object?> AsList(object? o) => o as List<object?> ?? throw Error($"APPEND on {Describe(o)}");

    private static string Describe(object? o) => o switch
    {
        null => "None",
        PickleGlobal g => $"'{g}'",
        string s => $"'{s}'",
        _ => o.GetType().Name,
    };

    private void Memo(long index)
    {
        if (_stack.Count == 0) throw Error("memo store on an empty stack");
        if (_memo.Count >= MaxMemo) throw Error("memo too large");
        _memo[index] = Peek();
    }

    private object? Recall(long index) => _memo.TryGetValue(index, out var v) ? v : throw Error($"memo key {index} not defined");

    private void Push(object? o)
    {
        if (_stack.Count >= MaxStack) throw Error("stack too deep");
        _stack.Add(o);
    }

    private object? Pop()
    {
        if (_stack.Count == 0) throw Error("pop from an empty stack");
        var o = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        if (o is PickleMark) throw Error("unexpected MARK");
        return o;
    }

    private object? Peek() => _stack.Count > 0 ? _stack[^1] : throw Error("empty stack");

    private List<object?> PopToMark()
    {
        int mark = _stack.FindLastIndex(o => o is PickleMark);
        if (mark < 0) throw Error("no MARK on the stack");
        var items = _stack.GetRange(mark + 1, _stack.Count - mark - 1);
        _stack.RemoveRange(mark, _stack.Count - mark);
        return items;
    }

    private byte ReadByte()
    {
        if (_pos >= _data.Length) throw Error("unexpected end of pickle");
        return _data[_pos++];
    }

    private ReadOnlySpan<byte> Take(long n)
    {
        if (n < 0 || _pos + n > _data.Length) throw Error($"{n} bytes requested beyond the end of the pickle");
        var span = _data.AsSpan(_pos, (int)n);
        _pos += (int)n;
        return span;
    }

    private void Skip(int n) => Take(n);

    private string ReadString(ulong length) => length > int.MaxValue ? throw Error("string too long") : Encoding.UTF8.GetString(Take((long)length));

    private string ReadLine()
    {
        int end = Array.IndexOf(_data, (byte)'\n', _pos);
        if (end < 0) throw Error("unterminated GLOBAL line");
        var s = Encoding.ASCII.GetString(_data, _pos, end - _pos);
        _pos = end + 1;
        return s;
    }

    private long ReadLong(int n)
    {
        if (n > 8) throw Error($"LONG1 of {n} bytes is too large");
        var bytes = Take(n);
        long v = 0;
        for (int i = n - 1; i >= 0; i--) v = (v << 8) | bytes[i];
        if (n > 0 && n < 8 && (bytes[n - 1] & 0x80) != 0) v -= 1L << (8 * n);
        return v;
    }
}
