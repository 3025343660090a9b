import GRDB
public enum RegistryPlaceholder {}
