"""Evaluates a .launch.py against Kestrel's launch shim and prints its description as JSON.

usage: run_launch.py <file.launch.py>                      → {"ok": true, "root": entity}
       run_launch.py <file.launch.py> --opaque N CONFIGS   → {"ok": true, "children": [entity...]}
         (calls the file's N-th OpaqueFunction with the launch configurations CONFIGS, a JSON object)
Failures: {"ok": false, "line": <line in the file or null>, "message": "..."}.
"""
import importlib.util
import json
import os
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
# The shim first: a ROS 2 install on the path must not be picked up instead.
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True

import kestrel_shim  # noqa: E402


def line_in(file, tb):
    """The innermost traceback line in the launch file itself."""
    line = None
    for frame in traceback.extract_tb(tb):
        if os.path.abspath(frame.filename) == file:
            line = frame.lineno
    return line


def main():
    file = os.path.abspath(sys.argv[1])
    kestrel_shim.LAUNCH_FILE = file
    out = {}
    try:
        spec = importlib.util.spec_from_file_location('kestrel_launch_file', file)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        gen = getattr(module, 'generate_launch_description', None)
        if gen is None:
            raise kestrel_shim.Unsupported('no generate_launch_description() function')
        ld = gen()
        if not isinstance(ld, kestrel_shim.LaunchDescription):
            raise kestrel_shim.Unsupported(f'generate_launch_description() returned a {type(ld).__name__}, not a LaunchDescription')
        if len(sys.argv) > 2 and sys.argv[2] == '--opaque':
            index, configs = int(sys.argv[3]), json.loads(sys.argv[4])
            ld.describe()  # registers the OpaqueFunctions in order, as Kestrel saw them
            fn = kestrel_shim.OpaqueFunction.registry[index]
            context = kestrel_shim.LaunchContext(configs, os.environ)
            try:
                actions = fn.function(context, *fn.args, **fn.kwargs) or []
            except kestrel_shim.Unsupported:
                raise
            except Exception as e:  # noqa: BLE001 - the user's function failed: report where
                raise kestrel_shim.Unsupported(f'OpaqueFunction {getattr(fn.function, "__name__", "?")}() raised {type(e).__name__}: {e}') from e
            out = {'ok': True, 'children': [kestrel_shim.describe(a) for a in actions]}
        else:
            out = {'ok': True, 'root': ld.describe()}
    except kestrel_shim.Unsupported as e:
        out = {'ok': False, 'line': line_in(file, e.__traceback__) or line_in(file, e.__cause__.__traceback__ if e.__cause__ else None), 'message': str(e)}
    except SyntaxError as e:
        out = {'ok': False, 'line': e.lineno, 'message': f'invalid Python: {e.msg}'}
    except Exception as e:  # noqa: BLE001 - any failure of the file becomes one line naming where
        out = {'ok': False, 'line': line_in(file, e.__traceback__), 'message': f'{type(e).__name__}: {e}'}
    sys.stdout.write(json.dumps(out))


if __name__ == '__main__':
    main()
