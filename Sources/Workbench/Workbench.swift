import Lang
public enum WorkbenchPlaceholder {}
