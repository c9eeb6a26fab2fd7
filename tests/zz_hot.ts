let s = 0; const a = new Uint8Array(4096);
function f(i: number) { a[i & 4095] = i; return a[(i * 7) & 4095] + (i % 13); }
for (let i = 0; i < 5e7; i++) s += f(i);
console.log(s);
await new Promise(r=>setTimeout(r,5000));
