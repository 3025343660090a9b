// The seed mixer and clock every graph user needs (dropout masks, initializers, shuffles).
@_exported import Support
