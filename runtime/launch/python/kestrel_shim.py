"""Kestrel's stand-in for the `launch` and `launch_ros` Python APIs.

A `.launch.py` file is run by python3 against these classes; `generate_launch_description()`
returns plain objects that `describe()` turns into the entity tree the XML/YAML frontends give
(tags, attributes with `$(...)` substitutions, children, line numbers), which Kestrel's resolver
then evaluates like any launch file. Nothing here evaluates launch configurations, except for
OpaqueFunction, which Kestrel calls back with the configurations it has at that point.
"""
import json
import os
import sys

LAUNCH_FILE = None  # the .launch.py being evaluated (set by run_launch.py)


class Unsupported(Exception):
    """An API of launch/launch_ros that the shim does not provide."""


def _line():
    """Line of the launch file that created the object (the innermost frame in that file)."""
    f = sys._getframe(1)
    while f is not None:
        if LAUNCH_FILE is not None and os.path.abspath(f.f_code.co_filename) == LAUNCH_FILE:
            return f.f_lineno
        f = f.f_back
    return None


def unsupported_module(modname, names):
    """A module `__getattr__` that names what is missing and what is there."""
    def __getattr__(name):
        if name.startswith('__'):
            raise AttributeError(name)
        raise Unsupported(f"{modname}.{name} is not supported by Kestrel's launch shim (supported: {', '.join(sorted(names))})")
    return __getattr__


# ---------------------------------------------------------------------------------------------
# Substitutions: each knows its frontend text, and how to perform itself (for OpaqueFunction).

class Substitution:
    def text(self):
        raise NotImplementedError

    def perform(self, context):
        raise NotImplementedError

    def __add__(self, other):
        return [self, other]

    def __radd__(self, other):
        return [other, self]


def _arg(s):
    """One substitution argument: quoted when it has spaces or parentheses."""
    s = str(s)
    if s == '' or any(c in s for c in ' \t()'):
        if "'" not in s:
            return f"'{s}'"
        if '"' not in s:
            return f'"{s}"'
        raise Unsupported(f'a substitution argument with both quote kinds: {s!r}')
    return s


def text_of(value):
    """Some substitutions (str, Substitution, or a list of those) → frontend text."""
    if value is None:
        return None
    if isinstance(value, Substitution):
        return value.text()
    if isinstance(value, (list, tuple)):
        return ''.join(text_of(v) for v in value)
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def perform(value, context):
    if value is None:
        return None
    if isinstance(value, Substitution):
        return value.perform(context)
    if isinstance(value, (list, tuple)):
        return ''.join(perform(v, context) for v in value)
    return str(value)


class TextSubstitution(Substitution):
    def __init__(self, *, text):
        self._text = text

    def text(self):
        return str(self._text)

    def perform(self, context):
        return str(self._text)


class LaunchConfiguration(Substitution):
    def __init__(self, variable_name, *, default=None):
        self.variable_name = variable_name
        self.default = default

    def text(self):
        name = text_of(self.variable_name)
        return f'$(var {_arg(name)})' if self.default is None else f'$(var {_arg(name)} {_arg(text_of(self.default))})'

    def perform(self, context):
        name = perform(self.variable_name, context)
        if name in context.launch_configurations:
            return context.launch_configurations[name]
        if self.default is not None:
            return perform(self.default, context)
        raise Unsupported(f"launch configuration '{name}' does not exist")


class EnvironmentVariable(Substitution):
    def __init__(self, name, *, default_value=None):
        self.name = name
        self.default_value = default_value

    def text(self):
        d = '' if self.default_value is None else ' ' + _arg(text_of(self.default_value))
        return f'$(env {_arg(text_of(self.name))}{d})'

    def perform(self, context):
        v = context.environment.get(perform(self.name, context))
        if v is None:
            if self.default_value is None:
                raise Unsupported(f"environment variable '{perform(self.name, context)}' does not exist")
            return perform(self.default_value, context)
        return v


class FindPackageShare(Substitution):
    def __init__(self, package):
        self.package = package

    def text(self):
        return f'$(find-pkg-share {_arg(text_of(self.package))})'

    def perform(self, context):
        return get_package_share_directory(perform(self.package, context))


class FindPackagePrefix(Substitution):
    def __init__(self, package):
        self.package = package

    def text(self):
        return f'$(find-pkg-prefix {_arg(text_of(self.package))})'

    def perform(self, context):
        return get_package_prefix(perform(self.package, context))


class PathJoinSubstitution(Substitution):
    def __init__(self, substitutions):
        self.substitutions = list(substitutions)

    def text(self):
        return '/'.join(text_of(s) for s in self.substitutions)

    def perform(self, context):
        return os.path.join(*[perform(s, context) for s in self.substitutions])


class PythonExpression(Substitution):
    def __init__(self, expression, python_modules=('math',)):
        self.expression = expression if isinstance(expression, (list, tuple)) else [expression]

    def text(self):
        body = text_of(self.expression)
        lit = ''.join(e for e in self.expression if isinstance(e, str))
        if '"' not in lit:
            return f'$(eval "{body}")'
        if "'" not in lit:
            return f"$(eval '{body}')"
        raise Unsupported('PythonExpression with both quote kinds in its text')

    def perform(self, context):
        import math
        return str(eval(perform(self.expression, context), {}, dict(vars(math), math=math)))


class NotSubstitution(Substitution):
    def __init__(self, value):
        self.value = value

    def text(self):
        return f'$(not {_arg(text_of(self.value))})'


class EqualsSubstitution(Substitution):
    def __init__(self, left, right):
        self.left, self.right = left, right

    def text(self):
        return f'$(equals {_arg(text_of(self.left))} {_arg(text_of(self.right))})'


class ThisLaunchFileDir(Substitution):
    def text(self):
        return '$(dirname)'

    def perform(self, context):
        return os.path.dirname(LAUNCH_FILE)


class ThisLaunchFile(Substitution):
    def text(self):
        return os.path.join('$(dirname)', '$(filename)')

    def perform(self, context):
        return LAUNCH_FILE


# ---------------------------------------------------------------------------------------------
# Packages (ament_index_python), looked up as Kestrel does: kestrel is the repository, then
# --ament-prefix-path, then AMENT_PREFIX_PATH.

class PackageNotFoundError(KeyError):
    pass


def get_package_prefix(package):
    if package == 'kestrel':
        return os.environ['KESTREL_ROOT']
    prefixes = os.environ.get('KESTREL_AMENT_PREFIXES', '').split(':') + os.environ.get('AMENT_PREFIX_PATH', '').split(':')
    for p in prefixes:
        if p and (os.path.exists(os.path.join(p, 'share', 'ament_index', 'resource_index', 'packages', package)) or os.path.isdir(os.path.join(p, 'share', package))):
            return p
    raise PackageNotFoundError(f"package '{package}' not found, searching: {[p for p in prefixes if p]}")


def get_package_share_directory(package):
    if package == 'kestrel':
        return os.environ['KESTREL_ROOT']
    return os.path.join(get_package_prefix(package), 'share', package)


# ---------------------------------------------------------------------------------------------
# Conditions

class Condition:
    def attrs(self):
        raise NotImplementedError


class IfCondition(Condition):
    def __init__(self, predicate_expression):
        self.p = predicate_expression

    def attrs(self):
        return {'if': text_of(self.p)}


class UnlessCondition(Condition):
    def __init__(self, predicate_expression):
        self.p = predicate_expression

    def attrs(self):
        return {'unless': text_of(self.p)}


class LaunchConfigurationEquals(Condition):
    def __init__(self, launch_configuration_name, expected_value):
        self.name, self.value = launch_configuration_name, expected_value

    def attrs(self):
        return {'if': f'$(equals $(var {_arg(self.name)}) {_arg(text_of(self.value) or "")})'}


class LaunchConfigurationNotEquals(LaunchConfigurationEquals):
    def attrs(self):
        return {'unless': super().attrs()['if']}


# ---------------------------------------------------------------------------------------------
# Actions: each describes itself as an entity {type, attrs, children, line}.

def entity(type_, attrs=None, children=None, line=None):
    return {'type': type_, 'attrs': {k: v for k, v in (attrs or {}).items() if v is not None}, 'children': children or [], 'line': line}


class Action:
    def __init__(self, *, condition=None):
        self.condition = condition
        self.line = _line()

    def cond(self):
        return self.condition.attrs() if self.condition is not None else {}

    def describe(self):
        raise NotImplementedError


class LaunchDescription:
    def __init__(self, initial_entities=None, *, deprecated_reason=None):
        self.entities = list(initial_entities or [])
        self.line = _line()

    def add_action(self, action):
        self.entities.append(action)

    add_entity = add_action

    def describe(self):
        return entity('launch', {}, [describe(e) for e in self.entities], self.line)


def describe(e):
    if isinstance(e, (Action, LaunchDescription)):
        return e.describe()
    raise Unsupported(f'a {type(e).__name__} is not a launch action Kestrel knows')


class DeclareLaunchArgument(Action):
    def __init__(self, name, *, default_value=None, description=None, choices=None, **kw):
        super().__init__(**kw)
        self.name, self.default_value, self.description, self.choices = name, default_value, description, choices

    def describe(self):
        kids = [entity('choice', {'value': str(c)}, [], self.line) for c in (self.choices or [])]
        return entity('arg', {'name': self.name, 'default': text_of(self.default_value), 'description': self.description, **self.cond()}, kids, self.line)


class SetLaunchConfiguration(Action):
    def __init__(self, name, value, **kw):
        super().__init__(**kw)
        self.name, self.value = name, value

    def describe(self):
        return entity('let', {'name': text_of(self.name), 'value': text_of(self.value), **self.cond()}, [], self.line)


class LogInfo(Action):
    def __init__(self, *, msg, **kw):
        super().__init__(**kw)
        self.msg = msg

    def describe(self):
        return entity('log', {'message': text_of(self.msg), **self.cond()}, [], self.line)


class SetEnvironmentVariable(Action):
    def __init__(self, name, value, **kw):
        super().__init__(**kw)
        self.name, self.value = name, value

    def describe(self):
        return entity('set_env', {'name': text_of(self.name), 'value': text_of(self.value), **self.cond()}, [], self.line)


class UnsetEnvironmentVariable(Action):
    def __init__(self, name, **kw):
        super().__init__(**kw)
        self.name = name

    def describe(self):
        return entity('unset_env', {'name': text_of(self.name), **self.cond()}, [], self.line)


class GroupAction(Action):
    def __init__(self, actions, *, scoped=True, forwarding=True, launch_configurations=None, **kw):
        super().__init__(**kw)
        self.actions, self.scoped, self.forwarding, self.lc = list(actions), scoped, forwarding, launch_configurations or {}

    def describe(self):
        keeps = [entity('keep', {'name': text_of(k), 'value': text_of(v)}, [], self.line) for k, v in self.lc.items()]
        attrs = {'scoped': 'true' if self.scoped else 'false', 'forwarding': 'true' if self.forwarding else 'false', **self.cond()}
        return entity('group', attrs, keeps + [describe(a) for a in self.actions], self.line)


class LaunchDescriptionSource:
    def __init__(self, launch_description_source):
        self.location = launch_description_source


PythonLaunchDescriptionSource = XMLLaunchDescriptionSource = YAMLLaunchDescriptionSource = LaunchDescriptionSource
FrontendLaunchDescriptionSource = AnyLaunchDescriptionSource = LaunchDescriptionSource


class IncludeLaunchDescription(Action):
    def __init__(self, launch_description_source, *, launch_arguments=None, **kw):
        super().__init__(**kw)
        src = launch_description_source
        self.location = src.location if isinstance(src, LaunchDescriptionSource) else src
        if isinstance(self.location, LaunchDescription):
            raise Unsupported('IncludeLaunchDescription of a LaunchDescription object (give a file)')
        args = launch_arguments or []
        self.args = list(args.items() if isinstance(args, dict) else args)

    def describe(self):
        kids = [entity('arg', {'name': text_of(k), 'value': text_of(v)}, [], self.line) for k, v in self.args]
        return entity('include', {'file': text_of(self.location), **self.cond()}, kids, self.line)


class ExecuteProcess(Action):
    def __init__(self, *, cmd, cwd=None, name=None, shell=False, output=None, additional_env=None, respawn=False, respawn_delay=None,
                 sigterm_timeout=None, sigkill_timeout=None, emulate_tty=None, prefix=None, **kw):
        super().__init__(**kw)
        self.cmd, self.cwd, self.name, self.shell, self.output = cmd, cwd, name, shell, output
        self.env, self.respawn, self.respawn_delay, self.prefix = additional_env or {}, respawn, respawn_delay, prefix
        self.sigterm, self.sigkill = sigterm_timeout, sigkill_timeout

    def describe(self):
        cmd = ' '.join(_cmd_word(text_of(c)) for c in self.cmd)
        kids = [entity('env', {'name': text_of(k), 'value': text_of(v)}, [], self.line) for k, v in self.env.items()]
        attrs = {'cmd': cmd, 'cwd': text_of(self.cwd), 'name': text_of(self.name), 'shell': text_of(bool(self.shell)), 'output': text_of(self.output),
                 'respawn': text_of(self.respawn), 'respawn_delay': text_of(self.respawn_delay), 'launch_prefix': text_of(self.prefix),
                 'sigterm_timeout': text_of(self.sigterm), 'sigkill_timeout': text_of(self.sigkill), **self.cond()}
        return entity('executable', attrs, kids, self.line)


def _cmd_word(w):
    if w == '' or any(c in w for c in ' \t'):
        return "'" + w + "'" if "'" not in w else '"' + w + '"'
    return w


class OpaqueFunction(Action):
    """Described as a placeholder: Kestrel calls back with its launch configurations, and the actions the function returns are described then."""
    registry = []

    def __init__(self, *, function, args=None, kwargs=None, **kw):
        super().__init__(**kw)
        self.function, self.args, self.kwargs = function, list(args or []), dict(kwargs or {})
        self.index = len(OpaqueFunction.registry)
        OpaqueFunction.registry.append(self)

    def describe(self):
        return entity('opaque_function', {'index': str(self.index), **self.cond()}, [], self.line)


class LaunchContext:
    """What an OpaqueFunction sees: the launch configurations at that point, and the environment."""
    def __init__(self, configs, environment):
        self.launch_configurations = dict(configs)
        self.environment = dict(environment)

    def perform_substitution(self, sub):
        return perform(sub, self)


# ---------------------------------------------------------------------------------------------
# launch_ros

def _param_value(v):
    """A parameters-dict value → <param value> text, or a list of texts (a YAML list attribute)."""
    if isinstance(v, ParameterValue):
        t = text_of(v.value)
        return f"'{t}'" if v.value_type is str else t
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        # Python strings stay strings (launch_ros keeps their type): quoted, so '5' is not an int.
        return v if '\n' in v else "'" + v.replace("'", "''") + "'"
    if isinstance(v, Substitution):
        return v.text()
    if isinstance(v, (list, tuple)):
        if v and all(isinstance(x, (str, Substitution)) for x in v) and any(isinstance(x, Substitution) for x in v):
            return text_of(v)  # a list of substitutions is one string
        return [_param_value(x) for x in v]
    raise Unsupported(f'parameter value of type {type(v).__name__}')


def _params(parameters, line):
    out = []
    for p in parameters or []:
        if isinstance(p, dict):
            for k, v in p.items():
                out.append(_param_entity(text_of(k), v, line))
        elif isinstance(p, RewrittenYaml):
            out.append(p.entity(line))
        elif isinstance(p, ParameterFile):
            if isinstance(p.param_file, RewrittenYaml):
                e = p.param_file.entity(line)
                e['attrs']['allow_substs'] = 'true' if p.allow_substs else None
                e['attrs'] = {k: v for k, v in e['attrs'].items() if v is not None}
                out.append(e)
            else:
                out.append(entity('param', {'from': text_of(p.param_file), 'allow_substs': 'true' if p.allow_substs else None}, [], line))
        else:
            out.append(entity('param', {'from': text_of(p)}, [], line))
    return out


def _param_entity(name, v, line):
    if isinstance(v, dict):
        return entity('param', {'name': name}, [_param_entity(text_of(k), x, line) for k, x in v.items()], line)
    return entity('param', {'name': name, 'value': _param_value(v)}, [], line)


def _remaps(remappings, line):
    return [entity('remap', {'from': text_of(a), 'to': text_of(b)}, [], line) for a, b in (remappings or [])]


class ParameterValue:
    def __init__(self, value, *, value_type=None):
        self.value, self.value_type = value, value_type


class ParameterFile:
    def __init__(self, param_file, *, allow_substs=False):
        self.param_file, self.allow_substs = param_file, allow_substs


class RewrittenYaml:
    """nav2_common's RewrittenYaml: a params file with values replaced by key, under an optional root key."""
    def __init__(self, source_file, param_rewrites, root_key='', key_rewrites=None, convert_types=False, value_rewrites=None):
        if key_rewrites or value_rewrites:
            raise Unsupported('RewrittenYaml key_rewrites/value_rewrites')
        self.source_file, self.rewrites, self.root_key, self.convert_types = source_file, param_rewrites, root_key, convert_types

    def entity(self, line):
        kids = [entity('rewrite', {'key': text_of(k), 'value': text_of(v)}, [], line) for k, v in self.rewrites.items()]
        return entity('param', {'from': text_of(self.source_file), 'root_key': text_of(self.root_key) or None,
                                'convert_types': 'true' if self.convert_types else None}, kids, line)


def _node_attrs(o):
    return {'pkg': text_of(o.package), 'exec': text_of(o.executable), 'name': text_of(o.name), 'namespace': text_of(o.namespace),
            'args': ' '.join(_cmd_word(text_of(a)) for a in o.arguments) if o.arguments else None,
            'ros_args': ' '.join(_cmd_word(text_of(a)) for a in o.ros_arguments) if o.ros_arguments else None,
            'output': text_of(o.output), 'respawn': text_of(o.respawn) if o.respawn else None, 'respawn_delay': text_of(o.respawn_delay),
            'launch_prefix': text_of(o.prefix), 'emulate_tty': text_of(o.emulate_tty), 'exec_name': text_of(o.exec_name), **o.cond()}


class Node(Action):
    def __init__(self, *, executable=None, package=None, name=None, namespace=None, exec_name=None, parameters=None, remappings=None,
                 ros_arguments=None, arguments=None, output=None, respawn=False, respawn_delay=None, prefix=None, emulate_tty=None,
                 additional_env=None, node_executable=None, node_name=None, node_namespace=None, sigterm_timeout=None, sigkill_timeout=None, **kw):
        super().__init__(**kw)
        self.executable, self.package = executable or node_executable, package
        self.name, self.namespace, self.exec_name = name or node_name, namespace or node_namespace, exec_name
        self.parameters, self.remappings, self.ros_arguments, self.arguments = parameters, remappings, ros_arguments, arguments
        self.output, self.respawn, self.respawn_delay, self.prefix, self.emulate_tty = output, respawn, respawn_delay, prefix, emulate_tty
        self.env = additional_env or {}

    def children(self):
        env = [entity('env', {'name': text_of(k), 'value': text_of(v)}, [], self.line) for k, v in self.env.items()]
        return _params(self.parameters, self.line) + _remaps(self.remappings, self.line) + env

    def describe(self):
        return entity('node', _node_attrs(self), self.children(), self.line)


class ComposableNode:
    def __init__(self, *, package, plugin, name=None, namespace=None, parameters=None, remappings=None, extra_arguments=None, condition=None):
        self.package, self.plugin, self.name, self.namespace = package, plugin, name, namespace
        self.parameters, self.remappings, self.extra, self.condition = parameters, remappings, extra_arguments, condition
        self.line = _line()

    def describe(self):
        extra = [entity('extra_arg', {'name': text_of(k), 'value': text_of(v)}, [], self.line) for d in (self.extra or []) for k, v in d.items()]
        attrs = {'pkg': text_of(self.package), 'plugin': text_of(self.plugin), 'name': text_of(self.name), 'namespace': text_of(self.namespace),
                 **(self.condition.attrs() if self.condition else {})}
        return entity('composable_node', attrs, _params(self.parameters, self.line) + _remaps(self.remappings, self.line) + extra, self.line)


class ComposableNodeContainer(Node):
    def __init__(self, *, name, namespace, composable_node_descriptions=None, **kw):
        super().__init__(name=name, namespace=namespace, **kw)
        self.nodes = list(composable_node_descriptions or [])

    def describe(self):
        return entity('node_container', _node_attrs(self), self.children() + [n.describe() for n in self.nodes], self.line)


class LoadComposableNodes(Action):
    def __init__(self, *, composable_node_descriptions, target_container, **kw):
        super().__init__(**kw)
        self.nodes, self.target = list(composable_node_descriptions), target_container

    def describe(self):
        t = self.target
        if isinstance(t, ComposableNodeContainer):
            ns = text_of(t.namespace) or ''
            t = f'{ns}/{text_of(t.name)}'
        return entity('load_composable_node', {'target': text_of(t), **self.cond()}, [n.describe() for n in self.nodes], self.line)


class PushRosNamespace(Action):
    def __init__(self, namespace, **kw):
        super().__init__(**kw)
        self.namespace = namespace

    def describe(self):
        return entity('push_ros_namespace', {'namespace': text_of(self.namespace), **self.cond()}, [], self.line)


PushROSNamespace = PushRosNamespace


class SetParameter(Action):
    def __init__(self, name, value, **kw):
        super().__init__(**kw)
        self.name, self.value = name, value

    def describe(self):
        return entity('set_parameter', {'name': text_of(self.name), 'value': _param_value(self.value), **self.cond()}, [], self.line)


class SetRemap(Action):
    def __init__(self, src, dst, **kw):
        super().__init__(**kw)
        self.src, self.dst = src, dst

    def describe(self):
        return entity('set_remap', {'from': text_of(self.src), 'to': text_of(self.dst), **self.cond()}, [], self.line)


def dump(obj):
    return json.dumps(obj)
