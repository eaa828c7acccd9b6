global using Hep.Engine;
global using Hep.Engine.Ops;
