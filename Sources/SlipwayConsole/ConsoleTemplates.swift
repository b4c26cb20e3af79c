// The console's Mustache templates, compiled into the binary. `{{name}}` escapes; `{{{name}}}` is used only for
// HTML the console rendered itself (a page inside the layout).

enum ConsoleTemplates {
    static let all: [String: String] = [
        "layout": layout,
        "signin": signIn,
        "message": message,
        "models": models,
        "model": model,
        "environment": environment,
        "confirm": confirm,
        "deployment": deployment,
        "keys": keys,
        "activity": activity,
        "docs": docs,
        "playground": playground,
        "monitoring": monitoring,
        "traffic": traffic,
    ]

    static let traffic = """
        <h1>Traffic of {{fullName}} · {{environment}}</h1>
        <p><a href="{{environmentPath}}">Deployments in {{environment}}</a></p>
        <section aria-labelledby="policy-heading"><h2 id="policy-heading">Split</h2>
        {{#hasArms}}
        <div class="scroll"><table>
        <caption>Who answers predictions in {{environment}}</caption>
        <thead><tr><th scope="col">Version</th><th scope="col">Weight</th><th scope="col">Role</th></tr></thead>
        <tbody>
        {{#arms}}<tr{{#isActive}} class="active"{{/isActive}}><td><a href="{{path}}">{{version}}</a></td><td>{{weight}}%</td><td>{{#isActive}}<span class="badge ok">active</span>{{/isActive}}{{^isActive}}split{{/isActive}}</td></tr>
        {{/arms}}
        </tbody></table></div>
        {{/hasArms}}
        {{^hasArms}}<p>No version is active in {{environment}}: nothing is served.</p>{{/hasArms}}
        <dl class="meta">
        <dt>Shadows</dt><dd>{{#shadows}}<span class="badge">version {{version}}: {{percent}}% copied</span> {{/shadows}}{{^shadows}}none{{/shadows}}</dd>
        <dt>Sticky feature</dt><dd>{{#sticky}}<code>{{sticky}}</code>{{/sticky}}{{^sticky}}none (the <code>X-Slipway-Route-Key</code> header, else random){{/sticky}}</dd>
        {{#updated}}<dt>Changed</dt><dd>{{updated}}</dd>{{/updated}}
        </dl>
        {{#split}}
        {{#note}}<p class="notice">{{note}}</p>{{/note}}
                {{#action}}
        <details class="panel">
        <summary>Set the split</summary>
        <form method="post" action="{{action}}" class="stack" id="split-form">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <p class="muted" id="split-help">Weights are whole percents summing to 100, the active version above 0; an empty weight leaves a version out. A shadow gets a copy of that percent of requests; its answers are not returned.</p>
          <div class="scroll"><table class="compact" aria-describedby="split-help">
          <caption>Weight and shadow percent per verified version</caption>
          <thead><tr><th scope="col">Version</th><th scope="col">Weight %</th><th scope="col">Shadow %</th></tr></thead>
          <tbody>
          {{#rows}}<tr><th scope="row">{{version}}{{#isActive}} <span class="badge ok">active</span>{{/isActive}}{{#hasSummary}} <span class="muted">{{summary}}</span>{{/hasSummary}}</th>
          <td><input id="weight-{{version}}" name="weight-{{version}}" value="{{weight}}" inputmode="numeric" size="4" aria-label="Weight of version {{version}}, percent"></td>
          <td>{{#canShadow}}<input id="shadow-{{version}}" name="shadow-{{version}}" value="{{shadow}}" inputmode="numeric" size="4" aria-label="Shadow percent of version {{version}}">{{/canShadow}}</td></tr>
          {{/rows}}
          </tbody></table></div>
          <label for="sticky-feature">Sticky feature (optional)</label>
          <input id="sticky-feature" name="sticky_feature" value="{{stickyValue}}" aria-describedby="sticky-help">
          <span id="sticky-help" class="muted">A feature of the schema whose value keeps a caller on one arm when the request has no X-Slipway-Route-Key header.</span>
          <button type="submit">Review the split</button>
        </form>
        {{#hasPolicy}}<p><a class="button" href="{{clearPath}}">Clear the split</a></p>{{/hasPolicy}}
        </details>
        {{/action}}
        {{/split}}
        <p class="muted">Or set a split with <code>slipway traffic {{fullName}} --env {{environment}} --set 3=90,4=10</code> or <code>PUT …/traffic</code>.</p>
        </section>
        <section aria-labelledby="rollout-heading"><h2 id="rollout-heading">Rollout</h2>
        {{#rollout}}
        <dl class="meta" id="live-rollout">
        <dt>Candidate</dt><dd>version {{candidate}} (from version {{baseline}})</dd>
        <dt>State</dt><dd><span class="badge {{stateClass}}">{{state}}</span>{{#reason}} {{reason}}{{/reason}}</dd>
        <dt>Step</dt><dd>{{step}}: <strong>{{weight}}%</strong> to the candidate</dd>
        <dt>Steps</dt><dd>{{steps}}, every {{interval}}</dd>
        <dt>Next</dt><dd>{{next}}</dd>
        <dt>Guardrails</dt><dd><code>{{guardrails}}</code></dd>
        {{#waiting}}<dt>Waiting for</dt><dd>{{waiting}}</dd>{{/waiting}}
        <dt>Started</dt><dd>{{started}} by {{by}}</dd>
        </dl>
        {{#evaluationError}}<p class="error" role="alert">{{evaluationError}}</p>{{/evaluationError}}
        {{#hasVerdicts}}
        <div class="scroll"><table>
        <caption>Guardrails judged now, over this step</caption>
        <thead><tr><th scope="col">Guardrail</th><th scope="col">Verdict</th><th scope="col">Observed</th><th scope="col">Limit</th><th scope="col">Reason</th></tr></thead>
        <tbody>
        {{#verdicts}}<tr><td><code>{{guardrail}}</code></td><td><span class="badge {{class}}">{{verdict}}</span></td><td>{{observed}}</td><td>{{limit}}</td><td>{{reason}}</td></tr>
        {{/verdicts}}
        </tbody></table></div>
        {{/hasVerdicts}}
        {{#hasMeasured}}
        <div class="scroll"><table>
        <caption>Measured since this step began</caption>
        <thead><tr><th scope="col">Arm</th><th scope="col">Version</th><th scope="col">Requests</th><th scope="col">Errors</th><th scope="col">Error rate</th><th scope="col">p99 ms</th><th scope="col">Key metric</th></tr></thead>
        <tbody>
        {{#measured}}<tr><td>{{arm}}</td><td>{{version}}</td><td>{{requests}}</td><td>{{errors}}</td><td>{{errorRate}}</td><td>{{p99}}</td><td>{{keyMetric}}</td></tr>
        {{/measured}}
        </tbody></table></div>
        {{/hasMeasured}}
        {{#hasControls}}<p class="actions">{{#controls}}<a class="button" href="{{path}}">{{label}}</a> {{/controls}}</p>{{/hasControls}}
        {{/rollout}}
        {{^rollout}}<p>No rollout is running in {{environment}}.</p>{{/rollout}}
        {{#start}}
        <details class="panel"{{#hasCandidates}} open{{/hasCandidates}}>
        <summary>Start a rollout</summary>
        {{^hasActive}}<p>Activate a version first: a rollout starts from the active one.</p>{{/hasActive}}
        {{#hasActive}}
        {{^hasCandidates}}<p>No other verified version in {{environment}} to roll out.</p>{{/hasCandidates}}
        {{#hasCandidates}}
        <form method="post" action="{{action}}" class="stack narrow">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <label for="rollout-version">Version</label>
          <select id="rollout-version" name="version">{{#candidates}}<option value="{{version}}">version {{version}}{{#hasSummary}}: {{summary}}{{/hasSummary}}</option>{{/candidates}}</select>
          <label for="rollout-steps">Steps, percent to the candidate</label>
          <input id="rollout-steps" name="steps" value="5,25,50,100" required>
          <label for="rollout-interval">Interval per step (90s, 10m, 1h)</label>
          <input id="rollout-interval" name="interval" value="10m" required>
          <label for="rollout-guardrails">Guardrails (optional)</label>
          <input id="rollout-guardrails" name="guardrails" placeholder="error_rate<1%,p99_ms<20,key_metric>=baseline-0.01" aria-describedby="guardrails-help">
          <span id="guardrails-help" class="muted">METRIC OP LIMIT, comma-separated: error_rate, p50_ms, p95_ms, p99_ms or key_metric; a number or baseline, baseline+X, baseline-X, baseline*X.</span>
          <button type="submit">Start the rollout</button>
        </form>
        {{/hasCandidates}}
        {{/hasActive}}
        </details>
        {{/start}}
        </section>
        <section aria-labelledby="experiment-heading"><h2 id="experiment-heading">Experiment readout</h2>
        {{#experiment}}
        {{#window}}<p>Baseline version {{baseline}}, {{window}}{{#keyMetric}}; key metric {{keyMetric}}{{#tested}}, tested as the {{tested}}{{/tested}}{{/keyMetric}}. Intervals at 95% confidence.</p>{{/window}}
        {{#note}}<p class="notice">{{note}}</p>{{/note}}
        {{#metricNote}}<p class="muted">{{metricNote}}</p>{{/metricNote}}
        {{#hasKeyArms}}
        <div class="scroll"><table id="readout-key-metric">
        <caption>Key metric per arm</caption>
        <thead><tr><th scope="col">Version</th><th scope="col">Requests</th><th scope="col">With ground truth</th><th scope="col">Estimate</th><th scope="col">95% CI</th><th scope="col">Difference</th><th scope="col">Difference CI</th><th scope="col">p-value</th><th scope="col">Significant</th><th scope="col">MDE</th></tr></thead>
        <tbody>
        {{#keyArms}}<tr><td>{{version}}{{#isBaseline}} <span class="badge">baseline</span>{{/isBaseline}}</td><td>{{requests}}</td><td>{{n}}</td><td>{{estimate}}</td><td>{{ci}}</td><td>{{difference}}</td><td>{{differenceCI}}</td><td>{{pValue}}</td><td>{{#isSignificant}}<strong>yes</strong>{{/isSignificant}}{{^isSignificant}}{{significant}}{{/isSignificant}}</td><td>{{mde}}</td></tr>
        {{/keyArms}}
        </tbody></table></div>
        {{#hasKeyNotes}}<ul class="muted" id="readout-key-metric-notes">{{#keyNotes}}<li>{{.}}</li>{{/keyNotes}}</ul>{{/hasKeyNotes}}
        {{/hasKeyArms}}
        {{#hasErrorArms}}
        <div class="scroll"><table id="readout-error-rate">
        <caption>Error rate per arm</caption>
        <thead><tr><th scope="col">Version</th><th scope="col">Requests</th><th scope="col">Error rate</th><th scope="col">95% CI</th><th scope="col">Difference</th><th scope="col">Difference CI</th><th scope="col">p-value</th><th scope="col">Significant</th><th scope="col">MDE</th></tr></thead>
        <tbody>
        {{#errorArms}}<tr><td>{{version}}{{#isBaseline}} <span class="badge">baseline</span>{{/isBaseline}}</td><td>{{requests}}</td><td>{{estimate}}</td><td>{{ci}}</td><td>{{difference}}</td><td>{{differenceCI}}</td><td>{{pValue}}</td><td>{{#isSignificant}}<strong>yes</strong>{{/isSignificant}}{{^isSignificant}}{{significant}}{{/isSignificant}}</td><td>{{mde}}</td></tr>
        {{/errorArms}}
        </tbody></table></div>
        {{#hasErrorNotes}}<ul class="muted" id="readout-error-rate-notes">{{#errorNotes}}<li>{{.}}</li>{{/errorNotes}}</ul>{{/hasErrorNotes}}
        {{/hasErrorArms}}
        {{/experiment}}
        </section>
        <section aria-labelledby="history-heading"><h2 id="history-heading">Rollout history</h2>
        {{#hasHistory}}
        <div class="scroll"><table>
        <thead><tr><th scope="col">Started</th><th scope="col">Version</th><th scope="col">From</th><th scope="col">Step</th><th scope="col">Weight</th><th scope="col">State</th><th scope="col">Reason</th><th scope="col">Ended</th></tr></thead>
        <tbody>
        {{#history}}<tr><td>{{started}} by {{by}}</td><td>{{candidate}}</td><td>{{baseline}}</td><td>{{step}}</td><td>{{weight}}%</td><td><span class="badge {{stateClass}}">{{state}}</span></td><td>{{reason}}</td><td>{{ended}}</td></tr>
        {{/history}}
        </tbody></table></div>
        {{/hasHistory}}
        {{^hasHistory}}<p>No rollout yet.</p>{{/hasHistory}}
        </section>
        """

    static let monitoring = """
        <h1>Monitoring of {{fullName}}</h1>
        <form method="get" action="{{path}}/monitoring" class="row">
          <label for="env">Environment</label>
          <select id="env" name="environment">{{#environments}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/environments}}</select>
          <label for="range">Time range</label>
          <select id="range" name="range">{{#ranges}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/ranges}}</select>
          <label for="version">Version</label>
          <input id="version" name="version" inputmode="numeric" size="6" value="{{versionField}}" placeholder="active" aria-describedby="version-help">
          <button type="submit">Show</button>
          <span id="version-help" class="muted">Leave the version empty for the active one.</span>
        </form>
        {{#absent}}<p class="notice" role="status">{{absent}}</p>{{/absent}}
        {{#deployment}}
        <p><a href="{{deploymentPath}}">Version {{version}}</a>{{#isActive}} (active){{/isActive}} in {{environment}}, {{from}} to {{to}}, per {{bucket}}.</p>
        <dl class="meta">
        <dt>Requests</dt><dd><span id="requests-total">{{requests}}</span> ({{rows}} rows)</dd>
        <dt>Errors</dt><dd>{{errors}}</dd>
        <dt>Latency</dt><dd>p50 {{p50}} ms · p95 {{p95}} ms · p99 {{p99}} ms</dd>
        </dl>
        {{/deployment}}
        {{#charts}}
        <section aria-labelledby="{{id}}-heading" class="chart-box"><h2 id="{{id}}-heading">{{heading}}</h2>
        {{#note}}<p>{{note}}</p>{{/note}}
        {{#hasChart}}{{{svg}}}{{/hasChart}}
        </section>
        {{/charts}}
        <section aria-labelledby="alerts-heading"><h2 id="alerts-heading">Alert rules</h2>
        {{#hasAlerts}}
        <div class="scroll"><table>
        <thead><tr><th scope="col">Name</th><th scope="col">Rule</th><th scope="col">State</th><th scope="col">Since</th>{{#canChangeAlerts}}<th scope="col"><span class="sr">Actions</span></th>{{/canChangeAlerts}}</tr></thead>
        <tbody>
        {{#alerts}}<tr><td>{{name}}</td><td><code>{{rule}}</code></td><td>{{#firing}}<strong class="bad">firing</strong>{{/firing}}{{^firing}}ok{{/firing}}</td><td>{{changed}}</td>{{#canChangeAlerts}}<td><a class="button" href="{{deletePath}}" aria-label="Delete the alert rule {{name}}">Delete</a></td>{{/canChangeAlerts}}</tr>
        {{/alerts}}
        </tbody></table></div>
        {{/hasAlerts}}
        {{^hasAlerts}}<p>No alert rules{{^canChangeAlerts}}: add one with <code>POST /api/v1/models/{{fullName}}/alerts</code>{{/canChangeAlerts}}.</p>{{/hasAlerts}}
        {{#alertForm}}
        <details class="panel"{{^hasAlerts}} open{{/hasAlerts}}>
        <summary>Add an alert rule</summary>
        <form method="post" action="{{action}}" class="stack narrow" id="alert-form">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <label for="alert-name">Name (lowercase letters, digits and dashes)</label>
          <input id="alert-name" name="name" required maxlength="100" pattern="[a-z0-9][a-z0-9-]*">
          <label for="alert-metric">Metric</label>
          <select id="alert-metric" name="metric" aria-describedby="alert-metric-help">{{#metrics}}<option value="{{value}}">{{value}}</option>{{/metrics}}</select>
          <span id="alert-metric-help" class="muted">error_rate is a share from 0 to 1; p99_ms in milliseconds; drift the population stability index; key_metric the model's key metric.</span>
          <label for="alert-op">Fires when the metric is</label>
          <select id="alert-op" name="op">{{#ops}}<option value="{{value}}">{{value}}</option>{{/ops}}</select>
          <label for="alert-threshold">Threshold</label>
          <input id="alert-threshold" name="threshold" inputmode="decimal" required>
          <label for="alert-window">Window (1m to 7d, e.g. 5m, 1h)</label>
          <input id="alert-window" name="window" value="5m" required>
          <label for="alert-environment">Environment</label>
          <select id="alert-environment" name="environment">{{#environments}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/environments}}</select>
          <button type="submit">Add the rule</button>
        </form>
        </details>
        {{/alertForm}}
        </section>
        """

    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · Slipway</title>
        <link rel="stylesheet" href="/console/assets/console.css">
        <script src="/console/assets/console.js" defer></script>
        </head>
        <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <a class="brand" href="/models">Slipway</a>
          {{#signedIn}}
          <nav aria-label="Main"><a href="/models">Models</a> <a href="/api/docs">API reference</a></nav>
          <form class="signout" method="post" action="/signout">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <span class="who">{{username}}</span>
            <button type="submit">Sign out</button>
          </form>
          {{/signedIn}}
        </header>
        {{#model}}
        <nav class="tabs" aria-label="Model">
          <a href="{{path}}"{{#tabOverview}} aria-current="page"{{/tabOverview}}>Overview</a>
          <a href="{{path}}/monitoring"{{#tabMonitoring}} aria-current="page"{{/tabMonitoring}}>Monitoring</a>
          <a href="{{path}}/activity"{{#tabActivity}} aria-current="page"{{/tabActivity}}>Activity</a>
          <a href="{{path}}/keys"{{#tabKeys}} aria-current="page"{{/tabKeys}}>Keys</a>
          <a href="{{path}}/docs"{{#tabDocs}} aria-current="page"{{/tabDocs}}>API docs</a>
          <a href="{{path}}/playground"{{#tabPlayground}} aria-current="page"{{/tabPlayground}}>Playground</a>
        </nav>
        {{/model}}
        <main id="main" tabindex="-1">
        {{#flash}}<p class="notice" role="status">{{flash}}</p>{{/flash}}
        {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
        {{{content}}}
        </main>
        </body>
        </html>
        """

    static let signIn = """
        <h1>Sign in</h1>
        <p>Sign in with your Slipway API token (it starts with <code>slw_u_</code>). An administrator creates one with
        <code>slipway users create</code> or <code>POST /api/v1/users</code>.</p>
        <form method="post" action="/signin" class="stack narrow">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <input type="hidden" name="next" value="{{next}}">
          <label for="token">API token</label>
          <input id="token" name="token" type="password" autocomplete="off" required>
          <button type="submit">Sign in</button>
        </form>
        """

    static let message = """
        <h1>{{heading}}</h1>
        <p class="error" role="alert">{{text}}</p>
        <p><a href="{{back}}">Back</a></p>
        """

    static let models = """
        <h1>Models</h1>
        <form method="get" action="/models" class="row" role="search">
          <label for="q">Search</label>
          <input id="q" name="q" type="search" value="{{query}}">
          <label for="visibility">Visibility</label>
          <select id="visibility" name="visibility">
            <option value=""{{#anyVisibility}} selected{{/anyVisibility}}>all</option>
            <option value="public"{{#onlyPublic}} selected{{/onlyPublic}}>public</option>
            <option value="private"{{#onlyPrivate}} selected{{/onlyPrivate}}>private</option>
          </select>
          <button type="submit">Filter</button>
        </form>
        {{#hasModels}}
        <div class="scroll"><table>
        <caption>{{total}} model(s)</caption>
        <thead><tr><th scope="col">Model</th><th scope="col">Visibility</th><th scope="col">Description</th><th scope="col">Updated</th></tr></thead>
        <tbody>
        {{#models}}
        <tr><td><a href="{{path}}">{{fullName}}</a></td><td><span class="badge">{{visibility}}</span></td><td>{{description}}</td><td>{{updated}}</td></tr>
        {{/models}}
        </tbody></table></div>
        {{/hasModels}}
        {{^hasModels}}<p>No model matches.</p>{{/hasModels}}
        <nav class="pager" aria-label="Pages">{{#previous}}<a href="{{previous}}">Previous</a>{{/previous}} {{#next}}<a href="{{next}}">Next</a>{{/next}}</nav>
        <details class="panel">
        <summary>New model</summary>
        <form method="post" action="/models" class="stack">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <label for="owner">Owner (you or an organisation)</label>
          <input id="owner" name="owner" value="{{username}}" required>
          <label for="name">Name</label>
          <input id="name" name="name" required pattern="[A-Za-z0-9][A-Za-z0-9._-]*">
          <label for="description">Description</label>
          <textarea id="description" name="description" rows="3"></textarea>
          <label class="check"><input type="checkbox" name="public" value="yes"> Public</label>
          <button type="submit">Create model</button>
        </form>
        </details>
        """

    static let model = """
        <h1>{{fullName}} <span class="badge">{{visibility}}</span></h1>
        {{#description}}<p class="lead">{{description}}</p>{{/description}}
        <section aria-labelledby="envs"><h2 id="envs">Environments</h2>
        <div class="scroll"><table>
        <thead><tr><th scope="col">Environment</th><th scope="col">Active version</th><th scope="col">Traffic</th><th scope="col">Monitoring</th><th scope="col">Created</th></tr></thead>
        <tbody>
        {{#environments}}
        <tr><td><a href="{{path}}">{{name}}</a></td><td>{{#active}}<a href="{{activePath}}">version {{active}}</a>{{/active}}{{^active}}none{{/active}}</td><td><a href="{{path}}/traffic" aria-label="Traffic of {{name}}">Traffic</a></td><td><a href="{{monitoringPath}}" aria-label="Monitoring of {{name}}">Monitoring</a></td><td>{{created}}</td></tr>
        {{/environments}}
        </tbody></table></div>
        </section>
        <section aria-labelledby="metric" data-slot="key-metric-trend"><h2 id="metric">Key metric{{#keyMetric}}: {{keyMetric}}{{/keyMetric}}</h2>
        {{^keyMetric}}<p>This model has no key metric set: choose one with <code>PUT /api/v1/models/{{fullName}}/key-metric</code>.</p>{{/keyMetric}}
        {{#keyMetric}}<ul class="trends">
        {{#trends}}<li><a href="{{path}}">{{name}}</a>: {{#hasTrend}}{{{svg}}} latest {{latest}} <span class="muted">(per day, last 7 days)</span>{{/hasTrend}}{{^hasTrend}}no feedback yet{{/hasTrend}}</li>
        {{/trends}}
        </ul>{{/keyMetric}}
        </section>
        <section aria-labelledby="meta"><h2 id="meta">Metadata</h2>
        <dl class="meta">
        <dt>Owner</dt><dd>{{owner}}</dd>
        <dt>Topics</dt><dd>{{#topics}}<span class="badge">{{.}}</span> {{/topics}}{{^topics}}none{{/topics}}</dd>
        <dt>Anonymous predictions</dt><dd>{{anonymous}}</dd>
        {{#links}}<dt>{{label}}</dt><dd>{{#safe}}<a href="{{url}}" rel="noopener noreferrer">{{url}}</a>{{/safe}}{{^safe}}{{url}}{{/safe}}</dd>{{/links}}
        <dt>Created</dt><dd>{{created}}</dd>
        <dt>Updated</dt><dd>{{updated}}</dd>
        </dl>
        </section>
        <section aria-labelledby="card"><h2 id="card">Model card</h2>
        {{#card}}<h3>{{title}}</h3><p class="pre">{{text}}</p>{{/card}}
        {{^card}}<p>No model card yet: set it with <code>PATCH /api/v1/models/{{fullName}}</code>.</p>{{/card}}
        </section>
        """

    static let environment = """
        <h1>{{fullName}} · {{environment}}</h1>
        <p>Active version: {{#active}}<strong>{{active}}</strong>{{/active}}{{^active}}none{{/active}} · <a href="{{trafficPath}}">Traffic, rollouts and experiment</a></p>
        <div class="scroll"><table>
        <caption>Deployments in {{environment}}</caption>
        <thead><tr><th scope="col">Version</th><th scope="col">Status</th><th scope="col">Verification</th><th scope="col">Summary</th><th scope="col">Deployed by</th><th scope="col">When</th><th scope="col">Actions</th></tr></thead>
        <tbody>
        {{#deployments}}
        <tr{{#isActive}} class="active"{{/isActive}}>
        <td><a href="{{path}}">{{version}}</a>{{#isActive}} <span class="badge ok">active</span>{{/isActive}}</td>
        <td><span class="badge {{status}}">{{status}}</span></td>
        <td>{{verification}}</td>
        <td>{{summary}}</td>
        <td>{{deployedBy}}</td>
        <td>{{created}}</td>
        <td class="actions">{{#canDeploy}}{{#canActivate}}<a class="button" href="{{activatePath}}">{{activateLabel}}</a> {{/canActivate}}<a class="button" href="{{promotePath}}">Promote</a>{{/canDeploy}}</td>
        </tr>
        {{/deployments}}
        </tbody></table></div>
        {{^deployments}}<p>No deployment yet. Deploy with <code>slipway deploy</code> or the API.</p>{{/deployments}}
        <nav class="pager" aria-label="Pages">{{#previous}}<a href="{{previous}}">Previous</a>{{/previous}} {{#next}}<a href="{{next}}">Next</a>{{/next}}</nav>
        """

    static let confirm = """
        <h1>{{heading}}</h1>
        <p>{{question}}</p>
        <form method="post" action="{{action}}" class="stack narrow">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <input type="hidden" name="version" value="{{version}}">
          {{#hidden}}<input type="hidden" name="{{name}}" value="{{value}}">
          {{/hidden}}
          {{#promote}}
          <label for="to">Promote to environment</label>
          <select id="to" name="to">{{#targets}}<option value="{{.}}">{{.}}</option>{{/targets}}</select>
          <label for="summary">Summary (optional)</label>
          <input id="summary" name="summary" maxlength="500">
          {{/promote}}
          <div class="row"><button type="submit">{{button}}</button> <a href="{{back}}">Cancel</a></div>
        </form>
        """

    static let deployment = """
        <h1>{{fullName}} · {{environment}} · version {{version}}</h1>
        <dl class="meta">
        <dt>Status</dt><dd><span class="badge {{status}}">{{status}}</span>{{#reason}} {{reason}}{{/reason}}</dd>
        <dt>Summary</dt><dd>{{summary}}</dd>
        <dt>Deployed by</dt><dd>{{deployedBy}}</dd>
        <dt>When</dt><dd>{{created}}</dd>
        <dt>Verified</dt><dd>{{verified}}</dd>
        <dt>Verification latency</dt><dd>{{latency}}</dd>
        <dt>Artifact</dt><dd><code>{{digest}}</code> ({{size}} bytes, {{format}})</dd>
        {{#promotedFrom}}<dt>Promoted from</dt><dd>{{promotedFrom}}</dd>{{/promotedFrom}}
        </dl>
        {{#description}}<h2>Description</h2><p class="pre">{{description}}</p>{{/description}}
        {{#sections}}
        <section><h2>{{title}}</h2>{{#json}}<pre class="code" tabindex="0">{{json}}</pre>{{/json}}{{^json}}<p>None.</p>{{/json}}</section>
        {{/sections}}
        """

    static let keys = """
        <h1>Keys of {{fullName}}</h1>
        {{#issued}}
        <div class="secret" role="alert">
        <p>The secret of the {{kind}} key <strong>{{name}}</strong>. Copy it now: it is not shown again.</p>
        <pre class="code" tabindex="0" id="issued-secret">{{secret}}</pre>
        </div>
        {{/issued}}
        <div class="scroll"><table>
        <thead><tr><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Environments</th><th scope="col">Rate limit</th><th scope="col">Expires</th><th scope="col">Created</th><th scope="col">State</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
        <tbody>
        {{#keys}}
        <tr><td>{{name}}</td><td>{{kind}}</td><td>{{environments}}</td><td>{{rateLimit}}</td><td>{{expires}}</td><td>{{created}} by {{createdBy}}</td><td>{{state}}</td>
        <td>{{^revoked}}<form method="post" action="{{revokePath}}" data-confirm="Revoke the key {{name}}? Clients using it stop working.">
        <input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">Revoke</button></form>{{/revoked}}</td></tr>
        {{/keys}}
        </tbody></table></div>
        {{^keys}}<p>No key yet.</p>{{/keys}}
        <h2>Create a key</h2>
        <form method="post" action="{{path}}/keys" class="stack narrow">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <label for="kind">Kind</label>
          <select id="kind" name="kind"><option value="serving">serving (predict)</option><option value="deploy">deploy</option></select>
          <label for="keyname">Name</label>
          <input id="keyname" name="name" required>
          <fieldset><legend>Environments</legend>
          {{#environments}}<label class="check"><input type="checkbox" name="environments" value="{{.}}"> {{.}}</label>{{/environments}}
          </fieldset>
          <label for="rate">Rate limit, predictions per second (serving keys, optional)</label>
          <input id="rate" name="rate_limit" inputmode="numeric">
          <label for="expires">Expires on (optional)</label>
          <input id="expires" name="expires" type="date">
          <button type="submit">Create key</button>
        </form>
        """

    static let activity = """
        <h1>Activity of {{fullName}}</h1>
        <form method="get" action="{{path}}/activity" class="row">
          <label for="env">Environment</label>
          <select id="env" name="environment"><option value="">all</option>{{#environments}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/environments}}</select>
          <label for="action">Action</label>
          <select id="action" name="action"><option value="">all</option>{{#actions}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/actions}}</select>
          <label for="since">Since</label><input id="since" name="since" type="date" value="{{since}}">
          <label for="until">Until</label><input id="until" name="until" type="date" value="{{until}}">
          <button type="submit">Filter</button>
        </form>
        <div class="scroll"><table>
        <caption>{{total}} event(s)</caption>
        <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Environment</th><th scope="col">Versions</th><th scope="col">Detail</th></tr></thead>
        <tbody>
        {{#events}}<tr><td>{{at}}</td><td>{{actor}}</td><td>{{action}}</td><td>{{environment}}</td><td>{{versions}}</td><td>{{detail}}</td></tr>{{/events}}
        </tbody></table></div>
        <nav class="pager" aria-label="Pages">{{#previous}}<a href="{{previous}}">Previous</a>{{/previous}} {{#next}}<a href="{{next}}">Next</a>{{/next}}</nav>
        """

    static let docs = """
        <h1>API docs for {{fullName}}</h1>
        <form method="get" action="{{path}}/docs" class="row">
          <label for="env">Environment</label>
          <select id="env" name="environment">{{#environments}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/environments}}</select>
          <button type="submit">Show</button>
        </form>
        <p><a href="{{openAPIPath}}">OpenAPI document for this endpoint</a> (JSON)</p>
        <h2>Endpoint</h2>
        <pre class="code" tabindex="0">POST {{endpoint}}</pre>
        <h2>Authentication</h2>
        <p>Send a serving key of this model valid for <code>{{environment}}</code> in the <code>X-Serving-Key</code> header
        (create one on the <a href="{{path}}/keys">Keys</a> page).{{#anonymous}} This public model also answers without a key.{{/anonymous}}
        Query parameters: <code>environment</code>, <code>version</code> (0 or absent: the active one), <code>order</code> (asc, desc),
        <code>limit</code>, <code>threshold</code>.</p>
        {{^active}}<p class="error" role="alert">No version is active in {{environment}}: activate one to get answers.</p>{{/active}}
        <h2>Request</h2>
        <pre class="code" tabindex="0" id="docs-request">{{request}}</pre>
        <h2>Response{{#active}} of version {{active}}{{/active}}</h2>
        <pre class="code" tabindex="0" id="docs-response">{{response}}</pre>
        {{#hasFeatures}}
        <h2>Features</h2>
        <div class="scroll"><table>
        <thead><tr><th scope="col">Position</th><th scope="col">Feature</th><th scope="col">Type</th><th scope="col">Rules</th><th scope="col">Help</th></tr></thead>
        <tbody>{{#features}}<tr><td>{{position}}</td><td><code>{{name}}</code></td><td>{{type}}</td><td>{{rules}}</td><td>{{help}}</td></tr>{{/features}}</tbody>
        </table></div>
        {{/hasFeatures}}
        <h2>Code</h2>
        {{#snippets}}
        <section class="snippet"><h3>{{language}}</h3><pre class="code" tabindex="0">{{code}}</pre></section>
        {{/snippets}}
        """

    static let playground = """
        <h1>Playground for {{fullName}}</h1>
        <form method="get" action="{{path}}/playground" class="row">
          <label for="env">Environment</label>
          <select id="env" name="environment">{{#environments}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/environments}}</select>
          <label for="form">Input as</label>
          <select id="form" name="form"><option value="ndarray"{{#isNdarray}} selected{{/isNdarray}}>ndarray</option><option value="features"{{^isNdarray}} selected{{/isNdarray}}>features</option></select>
          <button type="submit">Load sample</button>
        </form>
        <form method="post" action="{{path}}/playground" class="stack" id="playground">
          <input type="hidden" name="csrf" value="{{csrf}}">
          <input type="hidden" name="environment" value="{{environment}}">
          <input type="hidden" name="form" value="{{form}}">
          <label for="version">Verified version</label>
          <select id="version" name="version">
          {{#versions}}<option value="{{version}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/versions}}
          </select>
          {{^versions}}<p class="error">No verified version in {{environment}} yet.</p>{{/versions}}
          <label for="body">Request body (JSON)</label>
          <textarea id="body" name="body" rows="10" spellcheck="false">{{body}}</textarea>
          <button type="submit">Send</button>
        </form>
        <section aria-live="polite" id="playground-result">
        <h2>Response</h2>
        <p id="playground-latency">{{#latency}}{{status}} in {{latency}}{{/latency}}</p>
        <pre class="code" tabindex="0" id="playground-response">{{response}}</pre>
        </section>
        """
}
