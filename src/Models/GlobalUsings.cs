global using Hep.Autograd;
global using Hep.Engine;
global using Hep.Engine.Ops;
