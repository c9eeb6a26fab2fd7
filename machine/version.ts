/** vmrun's version (package.json's), written into save files and shown by --version. */
export const VMRUN_VERSION = "0.1.0";
