global using Hep.Autograd;
global using Hep.Engine;
global using Hep.Engine.Ops;
global using Hep.TestSupport;
