global using Hep.Engine;
global using Hep.Engine.Ops;
global using Hep.Kernels.Ilgpu;
global using Hep.TestSupport;
