// System.Numerics.Tensors also defines a Tensor type; the engine's is the one meant everywhere here.
global using Tensor = Hep.Engine.Tensor;
global using Hep.Engine;
