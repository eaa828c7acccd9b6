// RootValueType: the primitive element types a branch can hold, with their sizes and the
// mapping from ROOT leaf classes and C++ type names.
namespace Hep.RootIO;

public enum RootValueType
{
    Bool,
    Int8,
    UInt8,
    Int16,
    UInt16,
    Int32,
    UInt32,
    Int64,
    UInt64,
    Float32,
    Float64,
}

public static class RootValueTypes
{
    public static int SizeOf(this RootValueType t) => t switch
    {
        RootValueType.Bool or RootValueType.Int8 or RootValueType.UInt8 => 1,
        RootValueType.Int16 or RootValueType.UInt16 => 2,
        RootValueType.Int32 or RootValueType.UInt32 or RootValueType.Float32 => 4,
        _ => 8,
    };

    /// <summary>The CLR element type of arrays holding values of this type.</summary>
    public static Type ClrType(this RootValueType t) => t switch
    {
        RootValueType.Bool => typeof(bool),
        RootValueType.Int8 => typeof(sbyte),
        RootValueType.UInt8 => typeof(byte),
        RootValueType.Int16 => typeof(short),
        RootValueType.UInt16 => typeof(ushort),
        RootValueType.Int32 => typeof(int),
        RootValueType.UInt32 => typeof(uint),
        RootValueType.Int64 => typeof(long),
        RootValueType.UInt64 => typeof(ulong),
        RootValueType.Float32 => typeof(float),
        _ => typeof(double),
    };

    /// <summary>C++ spelling used in type names ("float", "vector&lt;int&gt;").</summary>
    public static string CppName(this RootValueType t) => t switch
    {
        RootValueType.Bool => "bool",
        RootValueType.Int8 => "char",
        RootValueType.UInt8 => "unsigned char",
        RootValueType.Int16 => "short",
        RootValueType.UInt16 => "unsigned short",
        RootValueType.Int32 => "int",
        RootValueType.UInt32 => "unsigned int",
        RootValueType.Int64 => "Long64_t",
        RootValueType.UInt64 => "ULong64_t",
        RootValueType.Float32 => "float",
        _ => "double",
    };

    internal static Array Allocate(RootValueType t, int n) => t switch
    {
        RootValueType.Bool => new bool[n],
        RootValueType.Int8 => new sbyte[n],
        RootValueType.UInt8 => new byte[n],
        RootValueType.Int16 => new short[n],
        RootValueType.UInt16 => new ushort[n],
        RootValueType.Int32 => new int[n],
        RootValueType.UInt32 => new uint[n],
        RootValueType.Int64 => new long[n],
        RootValueType.UInt64 => new ulong[n],
        RootValueType.Float32 => new float[n],
        _ => new double[n],
    };

    /// <summary>Type of a TLeafX class, or null for leaf classes we do not decode.</summary>
    internal static RootValueType? FromLeafClass(string leafClass, bool unsigned) => leafClass switch
    {
        "TLeafO" => RootValueType.Bool,
        "TLeafB" => unsigned ? RootValueType.UInt8 : RootValueType.Int8,
        "TLeafS" => unsigned ? RootValueType.UInt16 : RootValueType.Int16,
        "TLeafI" => unsigned ? RootValueType.UInt32 : RootValueType.Int32,
        "TLeafL" or "TLeafG" => unsigned ? RootValueType.UInt64 : RootValueType.Int64,
        "TLeafF" => RootValueType.Float32,
        "TLeafD" => RootValueType.Float64,
        _ => null,
    };

    /// <summary>Type of a C++ / ROOT typedef name, or null if it is not a primitive.</summary>
    internal static RootValueType? FromCppName(string name) => name.Trim() switch
    {
        "bool" or "Bool_t" => RootValueType.Bool,
        "char" or "Char_t" or "signed char" or "Int8_t" or "int8_t" => RootValueType.Int8,
        "unsigned char" or "UChar_t" or "UInt8_t" or "uint8_t" => RootValueType.UInt8,
        "short" or "Short_t" or "Int16_t" or "int16_t" => RootValueType.Int16,
        "unsigned short" or "UShort_t" or "UInt16_t" or "uint16_t" => RootValueType.UInt16,
        "int" or "Int_t" or "Int32_t" or "int32_t" => RootValueType.Int32,
        "unsigned int" or "unsigned" or "UInt_t" or "UInt32_t" or "uint32_t" => RootValueType.UInt32,
        "long" or "Long_t" or "long long" or "Long64_t" or "Int64_t" or "int64_t" => RootValueType.Int64,
        "unsigned long" or "ULong_t" or "unsigned long long" or "ULong64_t" or "UInt64_t" or "uint64_t" => RootValueType.UInt64,
        "float" or "Float_t" => RootValueType.Float32,
        "double" or "Double_t" => RootValueType.Float64,
        _ => null,
    };
}
