import "../machine/machine.ts";
await new Promise(r=>setTimeout(r,5000));
