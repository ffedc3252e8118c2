# Shaped like a navigation stack's bringup_launch.py: arguments, a namespace pushed under a
# condition, a component container when use_composition is set, includes of other Python files.
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, GroupAction, IncludeLaunchDescription, SetEnvironmentVariable
from launch.conditions import IfCondition
from launch.launch_description_sources import PythonLaunchDescriptionSource, XMLLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution, PythonExpression
from launch_ros.actions import ComposableNodeContainer, Node, PushRosNamespace
from launch_ros.substitutions import FindPackageShare
from nav2_common.launch import RewrittenYaml


def generate_launch_description():
    bringup_dir = get_package_share_directory('kestrel_nav')
    launch_dir = os.path.join(bringup_dir, 'launch')

    namespace = LaunchConfiguration('namespace')
    use_namespace = LaunchConfiguration('use_namespace')
    use_sim_time = LaunchConfiguration('use_sim_time')
    params_file = LaunchConfiguration('params_file')
    autostart = LaunchConfiguration('autostart')
    use_composition = LaunchConfiguration('use_composition')

    configured_params = RewrittenYaml(
        source_file=params_file,
        root_key=namespace,
        param_rewrites={'use_sim_time': use_sim_time, 'autostart': autostart},
        convert_types=True)

    bringup_cmd_group = GroupAction([
        PushRosNamespace(condition=IfCondition(use_namespace), namespace=namespace),
        ComposableNodeContainer(
            condition=IfCondition(use_composition),
            name='nav2_container',
            namespace='',
            package='rclcpp_components',
            executable='component_container_isolated',
            parameters=[configured_params, {'autostart': autostart}],
            output='screen'),
        IncludeLaunchDescription(
            PythonLaunchDescriptionSource(os.path.join(launch_dir, 'localization_launch.py')),
            launch_arguments={'namespace': namespace,
                              'use_sim_time': use_sim_time,
                              'autostart': autostart,
                              'params_file': params_file,
                              'use_composition': use_composition,
                              'container_name': 'nav2_container',
                              'container_name_full': (namespace, '/', 'nav2_container')}.items()),
        # An XML file included from Python, as stacks mixing both do.
        IncludeLaunchDescription(
            XMLLaunchDescriptionSource(PathJoinSubstitution([FindPackageShare('kestrel_stack'), 'launch', 'planning.launch.xml'])),
            launch_arguments=[('rate', '2.5')]),
        Node(
            package='kestrel',
            executable='talker',
            name='status_talker',
            parameters=[{'rate_hz': 5.0, 'message': '5', 'use_sim_time': use_sim_time}],
            condition=IfCondition(PythonExpression(["'", use_composition, "' == 'False'"]))),
    ])

    ld = LaunchDescription()
    ld.add_action(SetEnvironmentVariable('RCUTILS_LOGGING_BUFFERED_STREAM', '1'))
    ld.add_action(DeclareLaunchArgument('namespace', default_value='', description='Top-level namespace'))
    ld.add_action(DeclareLaunchArgument('use_namespace', default_value='false', description='Whether to apply a namespace'))
    ld.add_action(DeclareLaunchArgument('use_sim_time', default_value='false', description='Use simulation clock if true'))
    ld.add_action(DeclareLaunchArgument(
        'params_file', default_value=os.path.join(bringup_dir, 'params', 'nav_params.yaml'),
        description='Full path to the ROS2 parameters file to use for all launched nodes'))
    ld.add_action(DeclareLaunchArgument('autostart', default_value='true'))
    ld.add_action(DeclareLaunchArgument('use_composition', default_value='False', choices=['True', 'False']))
    ld.add_action(bringup_cmd_group)
    return ld
