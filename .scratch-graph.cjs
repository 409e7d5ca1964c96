const esbuild=require("esbuild");
const entry=process.argv[2];
esbuild.build({entryPoints:[entry],bundle:true,platform:"node",format:"esm",target:"node22",write:false,metafile:true,outfile:"/tmp/y.mjs",logLevel:"error"}).then(r=>{
 const m=r.metafile;
 const inputs=Object.values(m.outputs)[0].inputs;
 const by={};
 for (const [k,v] of Object.entries(inputs)){ const mm=k.match(/node_modules\/((@[^/]+\/)?[^/]+)/); const key=mm?mm[1]:k; by[key]=(by[key]||0)+v.bytesInOutput;}
 console.log("total", (Object.values(by).reduce((a,b)=>a+b,0)/1024).toFixed(0)+"K");
 console.log(Object.entries(by).filter(([k])=>!k.startsWith("lib/")||true).sort((a,b)=>b[1]-a[1]).slice(0,15).map(([k,v])=>"  "+k+" "+(v/1024).toFixed(0)+"K").join("\n"));
 // who imports undici/execa
 const imp=m.inputs;
 for (const [file,info] of Object.entries(imp)) for (const i of info.imports) if (/node_modules\/(undici|execa)\/index|node_modules\/(undici|execa)\//.test(i.path) && !file.includes("node_modules")) console.log("  ", file, "->", i.path.replace(/.*node_modules\//,""));
});
