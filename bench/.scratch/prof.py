import json,sys,collections
p=json.load(open(sys.argv[1]))
nodes={n['id']:n for n in p['nodes']}
self=collections.Counter()
for s in p['samples']: self[s]+=1
tot=sum(self.values())
by=collections.Counter()
for nid,c in self.items():
    n=nodes[nid]; cf=n['callFrame']
    key=f"{cf['functionName'] or '(anon)'} {cf['url'].split('/')[-1]}:{cf['lineNumber']}"
    by[key]+=c
idle=sum(c for k,c in by.items() if k.startswith('(idle)'))
print('total samples',tot,'idle',idle)
for k,c in by.most_common(int(sys.argv[2]) if len(sys.argv)>2 else 40):
    print(f"{100*c/tot:5.1f}% {100*c/(tot-idle):5.1f}%busy  {k}")
# inclusive by url file
parent={}
for n in p['nodes']:
    for ch in n.get('children',[]): parent[ch]=n['id']
incl=collections.Counter()
for nid,c in self.items():
    seen=set(); x=nid
    while x is not None:
        cf=nodes[x]['callFrame']; key=f"{cf['functionName'] or '(anon)'} {cf['url'].split('/')[-1]}:{cf['lineNumber']}"
        if key not in seen: incl[key]+=c; seen.add(key)
        x=parent.get(x)
print('--- inclusive')
for k,c in incl.most_common(45):
    print(f"{100*c/(tot-idle):5.1f}%busy  {k}")
