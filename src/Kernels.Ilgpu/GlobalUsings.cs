global using System.Numerics;
global using Hep.Engine;
global using Hep.Engine.Ops;
global using ILGPU;
